import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { backends } from '../helpers/backends.ts';
import { until } from '../helpers/until.ts';
import { openHarness, refreshed, rejectsWith, type DomainHarness } from './harness.ts';

for (const backend of backends()) {
  describe(`messages (${backend.name})`, () => {
    let h: DomainHarness;
    before(async () => { h = await openHarness(backend); });
    after(async () => { await h?.close(); });

    async function groupOf(...ids: string[]) {
      const t = await h.tenant();
      const users = await Promise.all(ids.map((id) => t.user(id)));
      const { room } = await h.domain.rooms.create(users[0]!, { type: 'group', name: 'g', members: ids.slice(1) });
      return { t, users, room };
    }

    test('20 concurrent senders get seqs exactly 1..20', async () => {
      const { users, room } = await groupOf('a', 'b', 'c', 'd');
      const sends = Array.from({ length: 20 }, (_, i) => h.domain.messages.send(users[i % 4]!, room.id, { content: `m${i}` }));
      const results = await Promise.all(sends);
      assert.deepEqual(results.map((r) => r.message.seq).sort((x, y) => x - y), Array.from({ length: 20 }, (_, i) => i + 1));
      assert.ok(results.every((r) => r.created));
      const { items } = await h.domain.messages.list(users[0]!, room.id, { after_seq: 0, limit: 200 });
      assert.deepEqual(items.map((m) => m.seq), Array.from({ length: 20 }, (_, i) => i + 1));
      assert.equal((await h.domain.rooms.get(users[0]!, room.id)).last_seq, 20);
    });

    test('20 concurrent repeats of one client_msg_id store one message', async () => {
      const { users, room } = await groupOf('a', 'b');
      const body = { content: 'once', meta: { x: 1, y: [1, 2] }, client_msg_id: 'k-1' };
      const results = await Promise.all(Array.from({ length: 20 }, () => h.domain.messages.send(users[0]!, room.id, body)));
      assert.equal(results.filter((r) => r.created).length, 1);
      assert.equal(new Set(results.map((r) => r.message.id)).size, 1);
      assert.equal(results[0]!.message.seq, 1);
      const { items } = await h.domain.messages.list(users[0]!, room.id, {});
      assert.equal(items.length, 1);
      // Meta key order does not matter; a later repeat still replays.
      const again = await h.domain.messages.send(users[0]!, room.id, { ...body, meta: { y: [1, 2], x: 1 } });
      assert.equal(again.created, false);
      assert.equal(again.message.id, results[0]!.message.id);
      // The next real send gets seq 2: rolled-back attempts left no gap.
      assert.equal((await h.domain.messages.send(users[0]!, room.id, { content: 'next' })).message.seq, 2);
    });

    test('same key with a different body is CONFLICT; keys are per sender', async () => {
      const { users, room } = await groupOf('a', 'b');
      await h.domain.messages.send(users[0]!, room.id, { content: 'one', client_msg_id: 'k' });
      const err = await rejectsWith(h.domain.messages.send(users[0]!, room.id, { content: 'two', client_msg_id: 'k' }), 'CONFLICT');
      assert.equal(err.details[0]?.field, 'client_msg_id');
      const other = await h.domain.messages.send(users[1]!, room.id, { content: 'two', client_msg_id: 'k' });
      assert.equal(other.created, true);
      assert.equal(other.message.seq, 2);
    });

    test('bad content and meta are VALIDATION_ERROR naming the field; nothing is stored', async () => {
      const { users, room } = await groupOf('a', 'b');
      const send = (input: Parameters<typeof h.domain.messages.send>[2]) => h.domain.messages.send(users[0]!, room.id, input);
      for (const content of ['', '   \n', 'x'.repeat(4001)]) {
        assert.equal((await rejectsWith(send({ content }), 'VALIDATION_ERROR')).details[0]?.field, 'content');
      }
      assert.equal((await rejectsWith(send({ content: 'ok', meta: { big: 'x'.repeat(8200) } }), 'VALIDATION_ERROR')).details[0]?.field, 'meta');
      assert.equal((await rejectsWith(send({ content: 'ok', meta: [1] as never }), 'VALIDATION_ERROR')).details[0]?.field, 'meta');
      assert.equal((await rejectsWith(send({ content: 'ok', client_msg_id: 'k'.repeat(129) }), 'VALIDATION_ERROR')).details[0]?.field, 'client_msg_id');
      const kept = await send({ content: '  padded  ', meta: { kind: 'text' } });
      assert.equal(kept.message.content, '  padded  ');
      assert.deepEqual(kept.message.meta, { kind: 'text' });
      assert.equal(kept.message.seq, 1);
      assert.equal((await send({ content: 'x'.repeat(4000) })).message.seq, 2);
      // Length counts characters (code points), not UTF-16 units: 4000 emoji fit.
      assert.equal((await send({ content: '😀'.repeat(4000) })).message.content, '😀'.repeat(4000));
    });

    test('non-members get NOT_FOUND; members without can_send_message get AUTHORIZATION_ERROR', async () => {
      const { t, users, room } = await groupOf('a', 'b');
      const stranger = await t.user('stranger');
      await rejectsWith(h.domain.messages.send(stranger, room.id, { content: 'hi' }), 'NOT_FOUND');
      await rejectsWith(h.domain.messages.list(stranger, room.id, {}), 'NOT_FOUND');
      const { message } = await h.domain.messages.send(users[0]!, room.id, { content: 'hi' });
      await rejectsWith(h.domain.messages.get(stranger, room.id, message.id), 'NOT_FOUND');
      await rejectsWith(h.domain.messages.send(t.caller, room.id, { content: 'hi' }), 'AUTHORIZATION_ERROR');
      await h.domain.users.update(t.caller, 'b', { permissions: { can_send_message: false } });
      await rejectsWith(h.domain.messages.send(await refreshed(h.domain, users[1]!), room.id, { content: 'hi' }), 'AUTHORIZATION_ERROR');
    });

    test('a refused send leaves no trace: other tenants, former members, and non-members without can_send_message', async () => {
      const { t, users, room } = await groupOf('a', 'b', 'c');
      await h.domain.messages.send(users[2]!, room.id, { content: 'before leaving', client_msg_id: 'c-1' });
      const before = await h.domain.rooms.get(users[0]!, room.id);
      h.clock.advance(1000);
      // The same user id in another tenant is someone else.
      const other = await h.tenant('other');
      await rejectsWith(h.domain.messages.send(await other.user('a'), room.id, { content: 'x' }), 'NOT_FOUND');
      // A member who left cannot send, not even a repeat of a key they used while in the room.
      await h.domain.rooms.removeMember(users[2]!, room.id, 'c');
      await rejectsWith(h.domain.messages.send(users[2]!, room.id, { content: 'after leaving' }), 'NOT_FOUND');
      await rejectsWith(h.domain.messages.send(users[2]!, room.id, { content: 'before leaving', client_msg_id: 'c-1' }), 'NOT_FOUND');
      // Not being able to send does not reveal a room one cannot see.
      const muted = await t.user('muted');
      await h.domain.users.update(t.caller, 'muted', { permissions: { can_send_message: false } });
      await rejectsWith(h.domain.messages.send(await refreshed(h.domain, muted), room.id, { content: 'x' }), 'NOT_FOUND');
      await rejectsWith(h.domain.messages.send(users[0]!, 'no-such-room', { content: 'x' }), 'NOT_FOUND');
      await rejectsWith(h.domain.messages.send(users[0]!, 'r'.repeat(65), { content: 'x' }), 'NOT_FOUND');
      const after = await h.domain.rooms.get(users[0]!, room.id);
      assert.equal(after.last_seq, before.last_seq);
      assert.equal(after.updated_at, before.updated_at);
      // A send that succeeds moves both.
      const { message } = await h.domain.messages.send(users[1]!, room.id, { content: 'next' });
      assert.equal(message.seq, before.last_seq + 1);
      assert.equal((await h.domain.rooms.get(users[0]!, room.id)).updated_at, message.created_at);
    });

    test('sends in flight together each get their own answer: stored, replayed, CONFLICT, NOT_FOUND', async () => {
      const { t, users, room } = await groupOf('a', 'b');
      const stranger = await t.user('stranger2');
      await h.domain.messages.send(users[0]!, room.id, { content: 'first', client_msg_id: 'old' });
      const before = h.events.length;
      const send = (u: (typeof users)[number], input: Parameters<typeof h.domain.messages.send>[2]) =>
        h.domain.messages.send(u, room.id, input).then((r) => ({ ok: r }), (err: unknown) => ({ err: err as { code?: string } }));
      const results = await Promise.all([
        send(users[0]!, { content: 'm1' }),
        send(users[0]!, { content: 'first', client_msg_id: 'old' }), // repeat of a stored send
        send(users[1]!, { content: 'dup', client_msg_id: 'new' }),
        send(users[1]!, { content: 'dup', client_msg_id: 'new' }), // repeat within the same batch
        send(users[0]!, { content: 'other body', client_msg_id: 'old' }), // CONFLICT
        send(stranger, { content: 'not a member' }), // NOT_FOUND
        send(users[1]!, { content: 'm2' }),
      ]);
      const ok = (i: number) => { const r = results[i]!; assert.ok('ok' in r, `send ${i} failed: ${JSON.stringify(r)}`); return r.ok; };
      const code = (i: number) => { const r = results[i]!; assert.ok('err' in r, `send ${i} succeeded`); return r.err.code; };
      assert.equal(ok(0).created, true);
      assert.equal(ok(1).created, false);
      assert.equal(ok(1).message.seq, 1);
      assert.equal(ok(2).message.id, ok(3).message.id);
      assert.equal([ok(2).created, ok(3).created].filter(Boolean).length, 1);
      assert.equal(code(4), 'CONFLICT');
      assert.equal(code(5), 'NOT_FOUND');
      assert.equal(ok(6).created, true);
      const stored = [ok(0), ok(2).created ? ok(2) : ok(3), ok(6)].map((r) => r.message.seq).sort();
      assert.deepEqual(stored, [2, 3, 4]);
      const { items } = await h.domain.messages.list(users[0]!, room.id, { after_seq: 0 });
      assert.deepEqual(items.map((m) => m.seq), [1, 2, 3, 4]);
      assert.equal((await h.domain.rooms.get(users[0]!, room.id)).last_seq, 4);
      const created = h.events.slice(before).filter((e) => e.type === 'message.created');
      assert.deepEqual(created.map((e) => (e as { message: { seq: number } }).message.seq).sort(), [2, 3, 4]);
    });

    test('a run (sendRun) answers its sends in item order, each with its own outcome, after the run before it, each before its announce', async () => {
      const { t, users, room } = await groupOf('a', 'b');
      const stranger = await t.user('stranger-run');
      const { room: elsewhere } = await h.domain.rooms.create(stranger, { type: 'group', name: 'not mine', members: [] });
      await h.domain.messages.send(users[0]!, room.id, { content: 'first', client_msg_id: 'old' });
      const before = h.events.length;
      const createdSeqs = () => h.events.slice(before).filter((e) => e.type === 'message.created').map((e) => (e as { message: { seq: number } }).message.seq);
      const answers: { i: number; result: { message?: { seq: number; content: string }; created?: boolean; err?: { code?: string } }; createdThen: number[] }[] = [];
      let open!: () => void;
      const after = new Promise<void>((resolve) => (open = resolve));
      const run = h.domain.messages.sendRun(users[0]!, [
        { room_id: room.id, input: { content: 'r1' } },
        { refused: Object.assign(new Error('limited'), { code: 'RATE_LIMIT_EXCEEDED' }) },
        { room_id: room.id, input: { content: 'x'.repeat(4001) } }, // VALIDATION_ERROR, nothing stored
        { room_id: room.id, input: { content: 'first', client_msg_id: 'old' } }, // a repeat: the original
        { room_id: room.id, input: { content: 'another body', client_msg_id: 'old' } }, // CONFLICT
        { room_id: elsewhere.id, input: { content: 'not a member' } }, // NOT_FOUND, after the send gate
        { room_id: room.id, input: { content: 'r2' } },
      ], {
        after,
        answer: (i, result) => answers.push({ i, result: result as never, createdThen: createdSeqs() }),
      });
      await until('the run to commit', async () => (await h.domain.rooms.get(users[0]!, room.id)).last_seq === 3);
      assert.equal(answers.length, 0, 'nothing answered before the run before it');
      assert.deepEqual(createdSeqs(), [], 'nothing announced before its answer');
      open();
      await run;
      assert.deepEqual(answers.map((a) => a.i), [0, 1, 2, 3, 4, 5, 6], 'every item answered once, in order');
      const [r1, limited, invalid, repeat, conflict, notFound, r2] = answers.map((a) => a.result);
      assert.deepEqual([r1!.created, r1!.message!.seq, r1!.message!.content], [true, 2, 'r1']);
      assert.equal(limited!.err!.code, 'RATE_LIMIT_EXCEEDED');
      assert.equal(invalid!.err!.code, 'VALIDATION_ERROR');
      assert.deepEqual([repeat!.created, repeat!.message!.seq], [false, 1]);
      assert.equal(conflict!.err!.code, 'CONFLICT');
      assert.equal(notFound!.err!.code, 'NOT_FOUND');
      assert.deepEqual([r2!.created, r2!.message!.seq, r2!.message!.content], [true, 3, 'r2']);
      assert.deepEqual(answers[0]!.createdThen, [], 'seq 2 acknowledged before it is announced');
      assert.deepEqual(answers[6]!.createdThen, [2], 'seq 3 acknowledged after seq 2 went out, before its own');
      assert.deepEqual(createdSeqs(), [2, 3]);
      const { items } = await h.domain.messages.list(users[0]!, room.id, { after_seq: 0 });
      assert.deepEqual(items.map((m) => [m.seq, m.content]), [[1, 'first'], [2, 'r1'], [3, 'r2']]);
      assert.equal((await h.domain.messages.list(stranger, elsewhere.id, { after_seq: 0 })).items.length, 0);
    });

    test('a run of a member without can_send_message: AUTHORIZATION_ERROR in a room they see, NOT_FOUND in one they do not, nothing stored', async () => {
      const { t, users, room } = await groupOf('a', 'b');
      const stranger = await t.user('stranger-denied');
      const { room: elsewhere } = await h.domain.rooms.create(stranger, { type: 'group', name: 'not theirs', members: [] });
      await h.domain.users.update(t.caller, 'b', { permissions: { can_send_message: false } });
      const answered: [number, string | undefined][] = [];
      await h.domain.messages.sendRun(await refreshed(h.domain, users[1]!), [
        { room_id: room.id, input: { content: 'one' } },
        { room_id: elsewhere.id, input: { content: 'two' } },
      ], { answer: (i, result) => answered.push([i, 'err' in result ? (result.err as { code?: string }).code : 'stored']) });
      assert.deepEqual(answered, [[0, 'AUTHORIZATION_ERROR'], [1, 'NOT_FOUND']]);
      assert.equal((await h.domain.rooms.get(users[0]!, room.id)).last_seq, 0);
    });

    test('a run whose answer callback throws still announces the stored send, answers it once, and answers the rest', async () => {
      const { users, room } = await groupOf('a', 'b');
      const before = h.events.length;
      const answered: [number, string][] = [];
      const failedBefore = Promise.reject(new Error('the run before failed'));
      failedBefore.catch(() => {}); // seen here; sendRun still gets a rejected promise
      await h.domain.messages.sendRun(users[0]!, [
        { room_id: room.id, input: { content: 'one' } },
        { room_id: room.id, input: { content: 'two' } },
      ], {
        after: failedBefore,
        answer: (i, result) => {
          answered.push([i, 'err' in result ? 'err' : String(result.message.seq)]);
          if (i === 0) throw new Error('a socket gone mid-answer');
        },
      });
      assert.deepEqual(answered, [[0, '1'], [1, '2']], 'no failure answer for a stored send; the next one answered');
      const created = h.events.slice(before).filter((e) => e.type === 'message.created');
      assert.deepEqual(created.map((e) => (e as { message: { seq: number } }).message.seq), [1, 2], 'both announced');
    });

    test('list pages by seq: after_seq, before_seq, newest by default, has_more', async () => {
      const { users, room } = await groupOf('a', 'b');
      for (let i = 1; i <= 7; i++) await h.domain.messages.send(users[0]!, room.id, { content: `m${i}` });
      const seqs = (r: { items: { seq: number }[] }) => r.items.map((m) => m.seq);
      const newest = await h.domain.messages.list(users[1]!, room.id, { limit: 3 });
      assert.deepEqual([seqs(newest), newest.has_more], [[5, 6, 7], true]);
      const older = await h.domain.messages.list(users[1]!, room.id, { before_seq: 5, limit: 3 });
      assert.deepEqual([seqs(older), older.has_more], [[2, 3, 4], true]);
      const oldest = await h.domain.messages.list(users[1]!, room.id, { before_seq: 2, limit: 3 });
      assert.deepEqual([seqs(oldest), oldest.has_more], [[1], false]);
      const forward = await h.domain.messages.list(users[1]!, room.id, { after_seq: 4, limit: 2 });
      assert.deepEqual([seqs(forward), forward.has_more], [[5, 6], true]);
      const window = await h.domain.messages.list(users[1]!, room.id, { after_seq: 2, before_seq: 5 });
      assert.deepEqual([seqs(window), window.has_more], [[3, 4], false]);
      const end = await h.domain.messages.list(users[1]!, room.id, { after_seq: 7 });
      assert.deepEqual([seqs(end), end.has_more], [[], false]);
      for (const limit of [0, 201, 1.5]) await rejectsWith(h.domain.messages.list(users[1]!, room.id, { limit }), 'VALIDATION_ERROR');
    });

    test('edit: the sender may; others need can_edit_message; edited_at is set', async () => {
      const { t, users, room } = await groupOf('a', 'b', 'mod');
      const { message } = await h.domain.messages.send(users[0]!, room.id, { content: 'v1', client_msg_id: 'e1' });
      const edited = await h.domain.messages.edit(users[0]!, room.id, message.id, { content: 'v2' });
      assert.equal(edited.content, 'v2');
      assert.ok(edited.edited_at);
      assert.equal(edited.seq, message.seq);
      await rejectsWith(h.domain.messages.edit(users[1]!, room.id, message.id, { content: 'hack' }), 'AUTHORIZATION_ERROR');
      await h.domain.users.update(t.caller, 'mod', { role: 'moderator' });
      const byMod = await h.domain.messages.edit(await refreshed(h.domain, users[2]!), room.id, message.id, { meta: { fixed: true } });
      assert.deepEqual([byMod.content, byMod.meta], ['v2', { fixed: true }]);
      await rejectsWith(h.domain.messages.edit(users[0]!, room.id, message.id, {}), 'VALIDATION_ERROR');
      // A late retry of the original send still replays the (edited) message rather than conflicting.
      const retry = await h.domain.messages.send(users[0]!, room.id, { content: 'v1', client_msg_id: 'e1' });
      assert.deepEqual([retry.created, retry.message.id], [false, message.id]);
      assert.ok(h.events.some((e) => e.type === 'message.updated' && e.message.id === message.id));
    });

    test('remove leaves a tombstone, keeps seq, and follows the delete rules', async () => {
      const { users, room } = await groupOf('owner', 'b', 'c');
      const m1 = (await h.domain.messages.send(users[1]!, room.id, { content: 'one', meta: { a: 1 } })).message;
      const m2 = (await h.domain.messages.send(users[1]!, room.id, { content: 'two' })).message;
      await rejectsWith(h.domain.messages.remove(users[2]!, room.id, m1.id), 'AUTHORIZATION_ERROR');
      const gone = await h.domain.messages.remove(users[1]!, room.id, m1.id); // the sender
      assert.deepEqual([gone.content, gone.meta, gone.seq, typeof gone.deleted_at], ['', null, 1, 'string']);
      const again = await h.domain.messages.remove(users[1]!, room.id, m1.id);
      assert.equal(again.deleted_at, gone.deleted_at);
      await h.domain.messages.remove(users[0]!, room.id, m2.id); // the room owner
      const { items } = await h.domain.messages.list(users[2]!, room.id, {});
      assert.deepEqual(items.map((m) => [m.seq, m.content]), [[1, ''], [2, '']]);
      await rejectsWith(h.domain.messages.edit(users[1]!, room.id, m1.id, { content: 'back' }), 'CONFLICT');
      assert.equal(h.events.filter((e) => e.type === 'message.deleted' && e.room_id === room.id).length, 2);
      await rejectsWith(h.domain.messages.remove(users[1]!, room.id, 'no-such-id'), 'NOT_FOUND');
    });

    test('listAfter walks every room of the caller in store order with a resumable cursor', async () => {
      const t = await h.tenant();
      const [a, b, c] = await Promise.all([t.user('a'), t.user('b'), t.user('c')]);
      const r1 = (await h.domain.rooms.create(a, { type: 'group', members: ['b'] })).room;
      const r2 = (await h.domain.rooms.create(a, { type: 'dm', members: ['c'] })).room;
      const r3 = (await h.domain.rooms.create(b, { type: 'dm', members: ['c'] })).room; // a is not in it
      for (const [room, who, text] of [[r1, a, '1'], [r2, c, '2'], [r3, b, 'hidden'], [r1, b, '3'], [r2, a, '4']] as const) {
        await h.domain.messages.send(who, room.id, { content: text });
      }
      const first = await h.domain.messages.listAfter(a, { limit: 3 });
      assert.deepEqual(first.items.map((m) => m.content), ['1', '2', '3']);
      const second = await h.domain.messages.listAfter(a, { after: first.next_cursor!, limit: 3 });
      assert.deepEqual(second.items.map((m) => m.content), ['4']);
      const caughtUp = await h.domain.messages.listAfter(a, { after: second.next_cursor! });
      assert.deepEqual([caughtUp.items, caughtUp.next_cursor], [[], second.next_cursor]);
      await h.domain.messages.send(c, r2.id, { content: '5' });
      assert.deepEqual((await h.domain.messages.listAfter(a, { after: caughtUp.next_cursor! })).items.map((m) => m.content), ['5']);
      await rejectsWith(h.domain.messages.listAfter(a, { after: 'garbage!' }), 'VALIDATION_ERROR');
    });

    test('message.created is published after commit, once per stored message', async () => {
      const { users, room } = await groupOf('a', 'b');
      const { message } = await h.domain.messages.send(users[0]!, room.id, { content: 'evt', client_msg_id: 'ev' });
      await h.domain.messages.send(users[0]!, room.id, { content: 'evt', client_msg_id: 'ev' });
      const created = h.events.filter((e) => e.type === 'message.created' && e.room_id === room.id);
      assert.equal(created.length, 1);
      assert.deepEqual(created[0], { type: 'message.created', tenant_id: users[0]!.tenantId, room_id: room.id, message });
    });
  });
}

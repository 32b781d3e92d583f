import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { backends } from '../helpers/backends.ts';
import { openHarness, rejectsWith, type DomainHarness } from './harness.ts';

for (const backend of backends()) {
  describe(`rooms and members (${backend.name})`, () => {
    let h: DomainHarness;
    before(async () => { h = await openHarness(backend); });
    after(async () => { await h?.close(); });

    test('concurrent DM creates for one pair make exactly one room', async () => {
      const t = await h.tenant();
      const [a, b] = await Promise.all([t.user('a'), t.user('b')]);
      const creates = Array.from({ length: 10 }, (_, i) => h.domain.rooms.create(i % 2 ? a : b, { type: 'dm', members: [i % 2 ? 'b' : 'a'] }));
      const results = await Promise.all(creates);
      assert.equal(new Set(results.map((r) => r.room.id)).size, 1);
      assert.equal(results.filter((r) => r.created).length, 1);
      const rows = await h.db('rooms').where({ tenant_id: t.id, type: 'dm' });
      assert.equal(rows.length, 1);
      const room = results[0]!.room;
      assert.deepEqual(room.members.map((m) => m.user_id).sort(), ['a', 'b']);
      assert.equal(room.name, null);
      assert.equal(h.events.filter((e) => e.type === 'member.joined' && e.room_id === room.id).length, 2);
    });

    test('DM input rules', async () => {
      const t = await h.tenant();
      const a = await t.user('a');
      await t.user('b');
      await t.user('c');
      for (const members of [[], ['a'], ['b', 'c']]) {
        const err = await rejectsWith(h.domain.rooms.create(a, { type: 'dm', members }), 'VALIDATION_ERROR');
        assert.equal(err.details[0]?.field, 'members');
      }
      await rejectsWith(h.domain.rooms.create(a, { type: 'dm', members: ['b'], name: 'x' }), 'VALIDATION_ERROR');
      await rejectsWith(h.domain.rooms.create(a, { type: 'nope' as never, members: ['b'] }), 'VALIDATION_ERROR');
      const { room } = await h.domain.rooms.create(a, { type: 'dm', members: ['b', 'a'] }); // naming yourself is harmless
      await rejectsWith(h.domain.rooms.addMember(a, room.id, { user_id: 'c' }), 'CONFLICT');
      await rejectsWith(h.domain.rooms.removeMember(a, room.id, 'b'), 'CONFLICT');
    });

    test('group create: creator owns it, unknown members are named in details', async () => {
      const t = await h.tenant();
      const a = await t.user('a');
      await t.user('b');
      const err = await rejectsWith(h.domain.rooms.create(a, { type: 'group', name: 'g', members: ['b', 'ghost', 'nobody'] }), 'VALIDATION_ERROR');
      assert.deepEqual(err.details.map((d) => d.field), ['members[1]', 'members[2]']);
      assert.match(err.message, /ghost/);
      const { room, created } = await h.domain.rooms.create(a, { type: 'channel', name: ' news ', members: ['b'] });
      assert.equal(created, true);
      assert.deepEqual([room.type, room.name, room.my_role, room.member_count, room.last_seq, room.unread_count, room.last_message], ['channel', 'news', 'owner', 2, 0, 0, null]);
      assert.deepEqual(room.members.map((m) => [m.user_id, m.role]), [['a', 'owner'], ['b', 'member']]);
      await rejectsWith(h.domain.rooms.create(t.caller, { type: 'group', members: [] }), 'AUTHORIZATION_ERROR');
    });

    test('non-members get NOT_FOUND for the room, its members and its messages', async () => {
      const t = await h.tenant();
      const [a, , outsider] = await Promise.all([t.user('a'), t.user('b'), t.user('outsider')]);
      const { room } = await h.domain.rooms.create(a, { type: 'group', members: ['b'] });
      const calls = [
        () => h.domain.rooms.get(outsider, room.id),
        () => h.domain.rooms.update(outsider, room.id, { name: 'x' }),
        () => h.domain.rooms.remove(outsider, room.id),
        () => h.domain.rooms.listMembers(outsider, room.id),
        () => h.domain.rooms.addMember(outsider, room.id, { user_id: 'outsider' }),
        () => h.domain.rooms.removeMember(outsider, room.id, 'b'),
        () => h.domain.messages.list(outsider, room.id, {}),
        () => h.domain.receipts.read(outsider, room.id, { seq: 0 }),
        () => h.domain.rooms.get(a, 'no-such-room'),
      ];
      for (const call of calls) await rejectsWith(call(), 'NOT_FOUND');
      assert.deepEqual((await h.domain.rooms.list(outsider, {})).items, []);
    });

    test('rename by owner/moderator, delete by owner only (members and messages go too)', async () => {
      const t = await h.tenant();
      const [a, b, c] = await Promise.all([t.user('a'), t.user('b'), t.user('c')]);
      const { room } = await h.domain.rooms.create(a, { type: 'group', name: 'old', members: ['c'] });
      await h.domain.rooms.addMember(a, room.id, { user_id: 'b', role: 'moderator' });
      await rejectsWith(h.domain.rooms.update(c, room.id, { name: 'mine' }), 'AUTHORIZATION_ERROR');
      const renamed = await h.domain.rooms.update(b, room.id, { name: 'new' });
      assert.equal(renamed.name, 'new');
      assert.ok(h.events.some((e) => e.type === 'room.updated' && e.room.name === 'new'));
      await h.domain.messages.send(c, room.id, { content: 'hi' });
      await rejectsWith(h.domain.rooms.remove(b, room.id), 'AUTHORIZATION_ERROR');
      await h.domain.rooms.remove(a, room.id);
      await rejectsWith(h.domain.rooms.get(a, room.id), 'NOT_FOUND');
      assert.equal((await h.db('room_members').where({ room_id: room.id })).length, 0);
      assert.equal((await h.db('messages').where({ room_id: room.id })).length, 0);
      assert.ok(h.events.some((e) => e.type === 'room.deleted' && e.room_id === room.id));
    });

    test('member rules: who adds, who removes, leaving, the owner stays', async () => {
      const t = await h.tenant();
      const [owner, mod, m1, m2] = await Promise.all(['owner', 'mod', 'm1', 'm2'].map((id) => t.user(id)));
      await t.user('m3');
      const { room } = await h.domain.rooms.create(owner!, { type: 'group', members: ['m1'] });
      const added = await h.domain.rooms.addMember(owner!, room.id, { user_id: 'mod', role: 'moderator' });
      assert.deepEqual([added.user_id, added.role, added.read_seq], ['mod', 'moderator', 0]);
      await rejectsWith(h.domain.rooms.addMember(m1!, room.id, { user_id: 'm2' }), 'AUTHORIZATION_ERROR');
      await rejectsWith(h.domain.rooms.addMember(mod!, room.id, { user_id: 'm2', role: 'moderator' }), 'AUTHORIZATION_ERROR');
      await rejectsWith(h.domain.rooms.addMember(owner!, room.id, { user_id: 'm2', role: 'owner' }), 'VALIDATION_ERROR');
      await rejectsWith(h.domain.rooms.addMember(owner!, room.id, { user_id: 'ghost' }), 'VALIDATION_ERROR');
      await h.domain.rooms.addMember(mod!, room.id, { user_id: 'm2' });
      await rejectsWith(h.domain.rooms.addMember(mod!, room.id, { user_id: 'm2' }), 'CONFLICT');
      await rejectsWith(h.domain.rooms.removeMember(m1!, room.id, 'm2'), 'AUTHORIZATION_ERROR');
      await rejectsWith(h.domain.rooms.removeMember(mod!, room.id, 'owner'), 'AUTHORIZATION_ERROR');
      await rejectsWith(h.domain.rooms.removeMember(mod!, room.id, 'm3'), 'NOT_FOUND');
      await h.domain.rooms.removeMember(mod!, room.id, 'm2');
      await h.domain.rooms.removeMember(m1!, room.id, 'm1'); // leave
      await rejectsWith(h.domain.rooms.removeMember(owner!, room.id, 'owner'), 'CONFLICT');
      await h.domain.rooms.removeMember(owner!, room.id, 'mod');
      assert.deepEqual((await h.domain.rooms.listMembers(owner!, room.id)).items.map((m) => m.user_id), ['owner']);
      await rejectsWith(h.domain.rooms.get(m2!, room.id), 'NOT_FOUND');
      assert.equal(h.events.filter((e) => e.type === 'member.left' && e.room_id === room.id).length, 3);
    });

    test('list: my rooms, latest activity first, with unread, last message and member count', async () => {
      const t = await h.tenant();
      const [a, b] = await Promise.all([t.user('a'), t.user('b')]);
      await t.user('c');
      const r1 = (await h.domain.rooms.create(a, { type: 'group', name: 'r1', members: ['b'] })).room;
      const r2 = (await h.domain.rooms.create(a, { type: 'group', name: 'r2', members: ['b', 'c'] })).room;
      const r3 = (await h.domain.rooms.create(a, { type: 'dm', members: ['c'] })).room;
      h.clock.advance(10);
      await h.domain.messages.send(a, r2.id, { content: 'mine' });
      h.clock.advance(10);
      await h.domain.messages.send(b, r2.id, { content: 'b1' });
      const gone = (await h.domain.messages.send(b, r2.id, { content: 'b2' })).message;
      await h.domain.messages.send(b, r2.id, { content: 'b3' });
      await h.domain.messages.remove(b, r2.id, gone.id);
      h.clock.advance(10);
      await h.domain.messages.send(b, r1.id, { content: 'latest' });

      const page1 = await h.domain.rooms.list(a, { limit: 2 });
      assert.deepEqual(page1.items.map((r) => r.id), [r1.id, r2.id]);
      const [v1, v2] = page1.items;
      assert.deepEqual([v1!.last_seq, v1!.unread_count, v1!.last_message?.content, v1!.member_count], [1, 1, 'latest', 2]);
      // Own messages and tombstones are not unread.
      assert.deepEqual([v2!.last_seq, v2!.unread_count, v2!.last_message?.content, v2!.member_count], [4, 2, 'b3', 3]);
      assert.equal('members' in v1!, false);
      const page2 = await h.domain.rooms.list(a, { limit: 2, cursor: page1.next_cursor! });
      assert.deepEqual([page2.items.map((r) => r.id), page2.next_cursor], [[r3.id], null]);
      await h.domain.receipts.read(a, r2.id, { seq: 3 });
      assert.equal((await h.domain.rooms.get(a, r2.id)).unread_count, 1);
      assert.deepEqual((await h.domain.rooms.list(b, {})).items.map((r) => r.id), [r1.id, r2.id]);
      await rejectsWith(h.domain.rooms.list(a, { cursor: 'bm90IGEgY3Vyc29y' }), 'VALIDATION_ERROR');
    });

    test('roomsOfUser gives the WS node each room with last_seq and delivered_seq', async () => {
      const t = await h.tenant();
      const [a] = await Promise.all([t.user('a'), t.user('b')]);
      const { room } = await h.domain.rooms.create(a, { type: 'group', members: ['b'] });
      await h.domain.messages.send(a, room.id, { content: '1' });
      await h.domain.messages.send(a, room.id, { content: '2' });
      await h.domain.receipts.ack(a, { room_id: room.id, seq: 1 });
      assert.deepEqual(await h.domain.rooms.roomsOfUser(t.id, 'a'), [{ room_id: room.id, last_seq: 2, delivered_seq: 1 }]);
      assert.deepEqual(await h.domain.rooms.roomsOfUser(t.id, 'nobody'), []);
    });
  });
}

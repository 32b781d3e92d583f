import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, afterEach, before, describe, test } from 'node:test';
import { onSendBatch } from '../../src/store/batch-stats.ts';
import { durabilitySettings, isUniqueViolation } from '../../src/store/db.ts';
import { appendMessage, type AfterInsert, type MessageToAppend } from '../../src/store/messages.ts';
import { checkpointOffLoop, walLimits, walState } from '../../src/store/wal-sync.ts';
import { backends } from '../helpers/backends.ts';
import { openHarness, type DomainHarness } from './harness.ts';
import { subscribe } from '../outbox/subscribe.ts';

for (const backend of backends()) {
  describe(`group commit (${backend.name})`, () => {
    let h: DomainHarness;
    let batches: number[] = [];
    let overlaps: boolean[] = [];
    let stop = () => {};
    before(async () => {
      h = await openHarness(backend);
      // A table standing in for the rows other features write per send (feed position, outbox).
      await h.db.schema.createTable('hook_rows', (t) => {
        t.string('message_id', 64).primary();
        t.bigInteger('seq').notNullable();
      });
    });
    after(async () => { await h?.close(); });
    afterEach(() => stop());
    const countBatches = () => {
      stop();
      batches = [];
      overlaps = [];
      stop = onSendBatch(h.db, (size, _seconds, overlapped) => {
        batches.push(size);
        overlaps.push(overlapped);
      });
    };

    async function roomsOf(n: number) {
      const t = await h.tenant();
      const [a, b] = [await t.user('a'), await t.user('b')];
      const rooms = [];
      for (let i = 0; i < n; i++) rooms.push((await h.domain.rooms.create(a, { type: 'group', name: `r${i}`, members: ['b'] })).room);
      return { t, a, b, rooms };
    }

    /** `n` sends in one event-loop turn, a and b in turns, round-robin over the rooms (keys `${key}${i}`): their answers. */
    function sendAcross({ a, b, rooms }: Awaited<ReturnType<typeof roomsOf>>, n: number, key: string) {
      const sends = [];
      for (let i = 0; i < n; i++) sends.push(h.domain.messages.send(i % 2 ? a : b, rooms[i % rooms.length]!.id, { content: `m${i}`, client_msg_id: `${key}${i}` }));
      return Promise.all(sends);
    }

    /** Each room's seqs among the answers: 1 … perRoom, in arrival order. */
    function assertGapFree(results: Awaited<ReturnType<typeof sendAcross>>, rooms: { id: string }[], perRoom: number, message: string) {
      for (const room of rooms) {
        const seqs = results.filter((r) => r.message.room_id === room.id).map((r) => r.message.seq);
        assert.deepEqual(seqs, Array.from({ length: perRoom }, (_, k) => k + 1), message);
      }
    }

    test('sends of one event-loop turn across rooms commit as one batch, each room gap-free', async () => {
      const world = await roomsOf(4);
      const { a, b, rooms } = world;
      countBatches();
      const results = await sendAcross(world, 40, 'k');
      assert.deepEqual(batches, [40]);
      assertGapFree(results, rooms, 10, 'seqs in arrival order, no gaps');
      for (const room of rooms) assert.equal((await h.domain.rooms.get(a, room.id)).last_seq, 10);
      // A repeat of a key stored by an earlier batch, in a batch with new sends, still replays.
      countBatches();
      const again = await Promise.all([
        h.domain.messages.send(b, rooms[0]!.id, { content: 'm0', client_msg_id: 'k0' }),
        h.domain.messages.send(b, rooms[0]!.id, { content: 'fresh', client_msg_id: 'k-new' }),
      ]);
      assert.equal(again[0].created, false);
      assert.equal(again[0].message.id, results[0]!.message.id);
      assert.equal(again[1].message.seq, 11);
      // The batches commit with their WAL sync off the loop; the connection is left as configured.
      if (backend.name === 'sqlite') assert.deepEqual(await durabilitySettings(h.db), { journal_mode: 'wal', synchronous: 'FULL' });
    });

    test('more than two full batches queued: on SQLite the second is written while the first syncs; answers and seqs stay in order', async () => {
      const world = await roomsOf(30);
      countBatches();
      const results = await sendAcross(world, 600, 'o');
      assert.deepEqual([...batches].sort((x, y) => y - x), [256, 256, 88], 'cut at MAX_BATCH, in three batches');
      // SQLite: the second full batch is written during the first one's WAL sync; MySQL keeps one in flight.
      assert.equal(overlaps.filter(Boolean).length, backend.name === 'sqlite' ? 1 : 0);
      results.forEach((r, i) => assert.equal(r.message.client_msg_id, `o${i}`, 'each send its own answer'));
      assertGapFree(results, world.rooms, 20, 'seqs in arrival order across the batches, no gaps');
    });

    test('afterInsert runs once per send inside the batch; a hook that throws fails only its send', async () => {
      const { t, a, rooms } = await roomsOf(1);
      const msg = (content: string): MessageToAppend => ({
        id: randomUUID(), tenant_id: t.id, room_id: rooms[0]!.id, sender_id: a.user.id, content, meta: null,
        client_msg_id: null, body_hash: null, edited_at: null, deleted_at: null,
      });
      const record: AfterInsert = async (trx, m) => { await trx('hook_rows').insert({ message_id: m.id, seq: m.seq }); };
      const boom: AfterInsert = async (trx, m) => {
        await trx('hook_rows').insert({ message_id: m.id, seq: m.seq });
        throw new Error('hook refused');
      };
      countBatches();
      const now = () => h.clock.now;
      const outcomes = await Promise.allSettled([
        appendMessage(h.db, msg('one'), now, record),
        appendMessage(h.db, msg('two'), now, boom),
        appendMessage(h.db, msg('three'), now, record),
        appendMessage(h.db, msg('four'), now),
      ]);
      assert.equal(outcomes[1]!.status, 'rejected');
      assert.match(String((outcomes[1] as PromiseRejectedResult).reason), /hook refused/);
      const seqs = outcomes.filter((o) => o.status === 'fulfilled').map((o) => (o as PromiseFulfilledResult<{ seq: number }>).value.seq);
      assert.deepEqual(seqs, [1, 2, 3], 'the failed send took no seq');
      const hooked = await h.db('hook_rows').orderBy('seq').select('seq');
      assert.deepEqual(hooked.map((r) => Number(r.seq)), [1, 2], 'the failed hook left no row; the others committed with their messages');
      const stored = await h.db('messages').where({ room_id: rooms[0]!.id }).orderBy('seq').select('content');
      assert.deepEqual(stored.map((r) => r.content), ['one', 'three', 'four']);
    });

    test('a send that fails mid-batch fails alone: the others keep their order, seqs and outbox rows', async () => {
      const { t, a, b, rooms } = await roomsOf(2);
      await subscribe(h.db, t.id); // events are written for tenants with an endpoint (store/outbox.ts)
      await h.domain.messages.send(a, rooms[0]!.id, { content: 'first', client_msg_id: 'dup' });
      const before = await h.db('outbox_events').where({ tenant_id: t.id, type: 'message.created' }).count({ n: '*' });
      countBatches();
      const sends = [
        h.domain.messages.send(b, rooms[0]!.id, { content: 'b1', client_msg_id: 'kb1' }),
        h.domain.messages.send(a, rooms[1]!.id, { content: 'a1' }),
        h.domain.messages.send(a, rooms[0]!.id, { content: 'first', client_msg_id: 'dup' }), // a repeat: replays
        h.domain.messages.send(a, rooms[0]!.id, { content: 'other', client_msg_id: 'dup' }).then(() => 'stored', (err) => err.code),
        h.domain.messages.send(b, rooms[0]!.id, { content: 'b2', client_msg_id: 'kb2' }),
        h.domain.messages.send(b, rooms[1]!.id, { content: 'b3' }),
      ];
      const [b1, a1, repeat, conflict, b2, b3] = await Promise.all(sends);
      assert.equal(batches[0], 6, 'one batch');
      assert.deepEqual([b1, b2].map((r) => (r as { message: { seq: number } }).message.seq), [2, 3]);
      assert.deepEqual([a1, b3].map((r) => (r as { message: { seq: number } }).message.seq), [1, 2]);
      assert.equal((repeat as { created: boolean; message: { seq: number } }).created, false);
      assert.equal((repeat as { message: { seq: number } }).message.seq, 1);
      assert.equal(conflict, 'CONFLICT');
      const stored = await h.db('messages').whereIn('room_id', rooms.map((r) => r.id)).orderBy(['room_id', 'seq']).select('room_id', 'seq', 'content');
      assert.deepEqual(stored.filter((r) => r.room_id === rooms[0]!.id).map((r) => [Number(r.seq), r.content]), [[1, 'first'], [2, 'b1'], [3, 'b2']]);
      assert.deepEqual(stored.filter((r) => r.room_id === rooms[1]!.id).map((r) => [Number(r.seq), r.content]), [[1, 'a1'], [2, 'b3']]);
      const after = await h.db('outbox_events').where({ tenant_id: t.id, type: 'message.created' }).count({ n: '*' });
      assert.equal(Number(after[0]!.n) - Number(before[0]!.n), 4, 'one outbox row per stored send, none for the refused ones');
    });

    if (backend.name === 'sqlite') test('SQLite: checkpoints run on a worker thread; the send connection no longer checkpoints in its COMMITs', async () => {
      const { a, b, rooms } = await roomsOf(1);
      const file = String((h.db.client.config.connection as { filename: string }).filename);
      const sendSome = (n: number, tag: string) => Promise.all(Array.from({ length: n }, (_, i) =>
        h.domain.messages.send(i % 2 ? a : b, rooms[0]!.id, { content: `${tag}${i}`.repeat(50), client_msg_id: `${tag}${i}` })));
      await sendSome(20, 'w');
      assert.equal(await checkpointOffLoop(file), true, 'the worker is up and checkpointed');
      await sendSome(20, 'x'); // the first batch after the worker is up turns the automatic checkpoint off
      assert.deepEqual(await h.db.raw('PRAGMA wal_autocheckpoint'), [{ wal_autocheckpoint: 0 }]);
      await sendSome(20, 'y');
      assert.equal(await checkpointOffLoop(file), true);
      const [state] = await h.db.raw('PRAGMA wal_checkpoint(PASSIVE)') as { busy: number; log: number; checkpointed: number }[];
      assert.equal(state!.checkpointed, state!.log, 'every frame of the WAL was already copied by the worker');
      const stored = await h.db('messages').where({ room_id: rooms[0]!.id }).count({ n: '*' });
      assert.equal(Number(stored[0]!.n), 60);
    });

    if (backend.name === 'sqlite') test('SQLite: under sustained sends the WAL restarts instead of growing without bound', async () => {
      const { a, b, rooms } = await roomsOf(4);
      const file = String((h.db.client.config.connection as { filename: string }).filename);
      const restartPages = walLimits.restartPages;
      walLimits.restartPages = 64;
      try {
        await h.domain.messages.send(a, rooms[0]!.id, { content: 'warm' });
        assert.equal(await checkpointOffLoop(file), true, 'the worker is up');
        const restartsBefore = walState(file).restarts;
        // 48 batches back to back: each commits while the checkpoint after the one before it runs,
        // so without a restart asked for, no write would begin after a checkpoint that reached the end
        const n = 12_000;
        const sent = await Promise.all(Array.from({ length: n }, (_, i) =>
          h.domain.messages.send(i % 2 ? a : b, rooms[i % 4]!.id, { content: `${i} `.padEnd(400, 'x'), client_msg_id: `wal${i}` })));
        assert.ok(sent.every((r) => r.created));
        const restarts = walState(file).restarts - restartsBefore;
        assert.ok(restarts >= 3, `the send path waited for the WAL to restart (${restarts} times)`);
        assert.equal(await checkpointOffLoop(file), true);
        // a batch is ~50 pages here: a restart is asked for within ~8 batches of the WAL reaching 64 pages,
        // where without restarts it would hold every page of the burst (~2,500)
        const { pages } = walState(file);
        assert.ok(pages > 0 && pages < 1000, `the WAL holds ${pages} pages since its last restart`);
        for (const room of rooms) {
          const seqs = (await h.db('messages').where({ room_id: room.id }).orderBy('seq').select('seq')).map((r) => Number(r.seq));
          assert.deepEqual(seqs, Array.from({ length: seqs.length }, (_, i) => i + 1), 'gap-free');
        }
        const stored = await h.db('messages').whereIn('room_id', rooms.map((r) => r.id)).count({ n: '*' });
        assert.equal(Number(stored[0]!.n), n + 1);
      } finally {
        walLimits.restartPages = restartPages;
      }
    });

    test('a repeated key in one batch fails with the duplicate-key error, after the first is stored', async () => {
      const { t, a, rooms } = await roomsOf(1);
      const keyed = (): MessageToAppend => ({
        id: randomUUID(), tenant_id: t.id, room_id: rooms[0]!.id, sender_id: a.user.id, content: 'x', meta: null,
        client_msg_id: 'same', body_hash: null, edited_at: null, deleted_at: null,
      });
      const [first, second] = await Promise.allSettled([appendMessage(h.db, keyed(), Date.now), appendMessage(h.db, keyed(), Date.now)]);
      assert.equal(first.status, 'fulfilled');
      assert.equal(second.status, 'rejected');
      assert.ok(isUniqueViolation((second as PromiseRejectedResult).reason));
    });
  });
}

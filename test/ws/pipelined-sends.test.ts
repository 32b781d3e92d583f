/**
 * A connection's consecutive message.send frames are pipelined (ws/dispatch.ts sendRun): stored in
 * one group-commit batch instead of one commit each. What must not change: per room, a socket's
 * sends take their seqs in frame order; answers (message.ack, error, pong) go out in frame order;
 * each ack precedes the sender's own message.created; a send that fails (validation, a conflicting
 * or repeated key, an unknown room, slow mode, a mute) is answered in its place and disturbs none
 * of the others; a non-send frame keeps its place among the sends. And a run of sends does not wait
 * for the answers of the runs before it: it is queued for the next batch while the one before commits,
 * right behind the same socket's sends already queued there (one run per room in the batch).
 */
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { onSendBatch } from '../../src/store/batch-stats.ts';
import { type Backend, backends } from '../helpers/backends.ts';
import { until } from '../helpers/until.ts';
import type { WsClient } from '../helpers/ws-client.ts';
import { queueDepth, startWorld, whileRoomHeld } from './harness.ts';

type Sent = { key: string; room?: string; content?: string };

/** Every answer frame in arrival order, as the key (client_msg_id or ref) of the frame it answers. */
function answerKeys(ws: WsClient): string[] {
  return ws.frames.flatMap((f) => {
    if (f.type === 'message.ack') return [f.client_msg_id ?? ''];
    if (f.type === 'error') return [f.client_msg_id ?? f.ref ?? ''];
    if (f.type === 'pong') return [f.ref ?? ''];
    return [];
  });
}

/** Each ack of a new message arrived before the sender's own message.created of it. */
function assertAckBeforeCreated(ws: WsClient): void {
  for (const ack of ws.all('message.ack').filter((a) => a.created)) {
    const created = ws.all('message.created').find((f) => f.message.id === ack.message.id);
    if (created) assert.ok(ws.frames.indexOf(ack) < ws.frames.indexOf(created), `ack of ${ack.client_msg_id} before its message.created`);
  }
}

/** The created acks of one room, in arrival order: their seqs follow the frames, gap-free from `from`. */
function assertSeqsInFrameOrder(ws: WsClient, roomId: string, keys: string[], from: number): void {
  const acks = ws.all('message.ack').filter((a) => a.created && a.message.room_id === roomId);
  assert.deepEqual(acks.map((a) => a.client_msg_id), keys, `acks of room ${roomId} in frame order`);
  assert.deepEqual(acks.map((a) => a.message.seq), keys.map((_, i) => from + i), `seqs of room ${roomId} in frame order`);
}

/** A world with users alice and bob, two rooms of theirs, and the sizes of its send batches as they commit. */
async function twoRooms(t: TestContext, backend: Backend, name1: string, name2: string) {
  const w = await startWorld(t, backend);
  const [alice] = await w.users('alice', 'bob');
  const r1 = await w.room(alice!, ['bob'], name1);
  const r2 = await w.room(alice!, ['bob'], name2);
  const batches: number[] = [];
  t.after(onSendBatch(w.server.running.parts.db, (size) => batches.push(size)));
  return { w, alice: alice!, r1, r2, batches };
}



for (const backend of backends()) {
  describe(`ws pipelined sends [${backend.name}]`, () => {
    test('one socket, bursts of sends', async (t) => {
      const { w, alice, r1, r2, batches } = await twoRooms(t, backend, 'one', 'two');

      await t.test('a burst with failing sends and a ping among them: seqs and answers in frame order', async () => {
        const ws = await w.connect('alice');
        await Promise.all([r1, r2].map((r) => ws.first('sync.complete', (f) => f.room_id === r)));
        const frames: (Sent & { type?: 'ping' })[] = [
          { key: 'a0', room: r1 }, { key: 'a1', room: r1 }, { key: 'a2', room: r1 }, { key: 'a3', room: r2 },
          { key: 'bad-content', room: r1, content: 'x'.repeat(4001) }, // VALIDATION_ERROR
          { key: 'a4', room: r1 },
          { key: 'a1', room: r1, content: 'another body' }, // the key again, another body: CONFLICT
          { key: 'a2', room: r1, content: 'm-a2' }, // the key again, same body: the original (created: false)
          { key: 'p1', type: 'ping' },
          { key: 'a5', room: r2 },
          { key: 'nowhere', room: 'no-such-room' }, // NOT_FOUND
          { key: 'a6', room: r1 }, { key: 'a7', room: r2 }, { key: 'a8', room: r1 },
          { key: 'p2', type: 'ping' },
        ];
        for (const f of frames) {
          if (f.type === 'ping') ws.send({ type: 'ping', ref: f.key });
          else ws.send({ type: 'message.send', room_id: f.room, content: f.content ?? `m-${f.key}`, client_msg_id: f.key });
        }
        await ws.first('pong', (f) => f.ref === 'p2', 20_000);
        assert.deepEqual(answerKeys(ws), frames.map((f) => f.key), 'one answer per frame, in frame order');
        const errors = new Map(ws.all('error').map((e) => [e.client_msg_id, e.code]));
        assert.deepEqual(Object.fromEntries(errors), { 'bad-content': 'VALIDATION_ERROR', a1: 'CONFLICT', nowhere: 'NOT_FOUND' });
        const repeat = ws.all('message.ack').find((a) => !a.created)!;
        assert.equal(repeat.client_msg_id, 'a2');
        assert.equal(repeat.message.id, ws.all('message.ack').find((a) => a.created && a.client_msg_id === 'a2')!.message.id);
        assertSeqsInFrameOrder(ws, r1, ['a0', 'a1', 'a2', 'a4', 'a6', 'a8'], 1);
        assertSeqsInFrameOrder(ws, r2, ['a3', 'a5', 'a7'], 1);
        await ws.waitUntil(() => ws.all('message.created').length >= 9);
        assertAckBeforeCreated(ws);
        assert.ok(batches.some((n) => n > 1), `some sends of the burst shared a batch (batches: ${batches.join(',')})`);
        ws.assertValid();
        await ws.close();
      });

      await t.test('slow mode and a mute in the middle of a burst: refused in place, the others stored in order', async () => {
        const set = await alice.PATCH('/v1/rooms/{room_id}', { params: { path: { room_id: r1 } }, body: { slow_mode_seconds: 3600 } });
        assert.equal(set.response.status, 200, JSON.stringify(set.error));
        const muted = await alice.POST('/v1/rooms/{room_id}/mutes', { params: { path: { room_id: r2 } }, body: { user_id: 'bob', duration_seconds: 600 } });
        assert.ok(muted.response.ok, JSON.stringify(muted.error));
        const r3 = await w.room(alice, ['bob'], 'three');
        const ws = await w.connect('bob');
        await Promise.all([r1, r2, r3].map((r) => ws.first('sync.complete', (f) => f.room_id === r)));
        const frames: Sent[] = [
          { key: 'b0', room: r3 },
          { key: 's0', room: r1 }, // slow mode: the first passes (its slot is free) …
          { key: 'b1', room: r3 },
          { key: 'muted', room: r2 }, // muted: refused
          { key: 's1', room: r1 }, // … the next one in the same burst is slowed down
          { key: 'b2', room: r3 },
          { key: 's2', room: r1 },
          { key: 'b3', room: r3 },
        ];
        for (const f of frames) ws.send({ type: 'message.send', room_id: f.room, content: `m-${f.key}`, client_msg_id: f.key });
        await ws.waitUntil(() => answerKeys(ws).length >= frames.length, 20_000);
        assert.deepEqual(answerKeys(ws), frames.map((f) => f.key), 'one answer per frame, in frame order');
        const errors = Object.fromEntries(ws.all('error').map((e) => [e.client_msg_id, e.code]));
        assert.deepEqual(errors, { muted: 'AUTHORIZATION_ERROR', s1: 'RATE_LIMIT_EXCEEDED', s2: 'RATE_LIMIT_EXCEEDED' });
        assert.ok(ws.all('error').filter((e) => e.code === 'RATE_LIMIT_EXCEEDED').every((e) => e.retry_after_ms! > 3_500_000));
        const lastR1 = ws.all('sync.complete').find((f) => f.room_id === r1)!.seq;
        assertSeqsInFrameOrder(ws, r1, ['s0'], lastR1 + 1);
        assertSeqsInFrameOrder(ws, r3, ['b0', 'b1', 'b2', 'b3'], 1);
        await ws.waitUntil(() => ws.all('message.created').filter((f) => f.message.sender_id === 'bob').length >= 5);
        assertAckBeforeCreated(ws);
        ws.assertValid();
      });
    });
  });
}

/**
 * On MariaDB a batch can be held at a real row lock, so what a connection does while its earlier
 * sends are committing can be watched: a send that arrives then is queued for the next batch at
 * once (chatapi_send_queue_depth counts it), not held until the earlier ones are answered.
 */
for (const backend of backends().filter((b) => b.name === 'mysql')) {
  describe(`ws pipelined sends across batches [${backend.name}]`, () => {
    test('sends arriving while the batch before them commits are queued for the next one, answered in frame order', async (t) => {
      const { w, r1, r2, batches } = await twoRooms(t, backend, 'held', 'free');
      const ws = await w.connect('alice');
      await Promise.all([r1, r2].map((r) => ws.first('sync.complete', (f) => f.room_id === r)));
      assert.equal(await queueDepth(w), 0);

      // Another session holds room r1's row: the batch with a0 waits for it.
      await whileRoomHeld(w, r1, async (blocked) => {
        ws.send({ type: 'message.send', room_id: r1, content: 'm-a0', client_msg_id: 'a0' });
        await blocked();
        // Two more sends, each read on its own while a0 is unanswered: both are queued at once.
        ws.send({ type: 'message.send', room_id: r2, content: 'm-b0', client_msg_id: 'b0' });
        await until('b0 to be queued for the next batch', async () => (await queueDepth(w)) === 1);
        ws.send({ type: 'message.send', room_id: r2, content: 'm-b1', client_msg_id: 'b1' });
        await until('b1 to be queued behind it', async () => (await queueDepth(w)) === 2);
        ws.send({ type: 'ping', ref: 'p' }); // not handled before every send before it is answered
        assert.deepEqual(answerKeys(ws), [], 'nothing answered while a0 is held');
      });
      await ws.first('pong', (f) => f.ref === 'p', 20_000);
      assert.deepEqual(answerKeys(ws), ['a0', 'b0', 'b1', 'p'], 'answers in frame order');
      assertSeqsInFrameOrder(ws, r1, ['a0'], 1);
      assertSeqsInFrameOrder(ws, r2, ['b0', 'b1'], 1);
      assert.deepEqual(batches, [1, 2], 'a0 alone, then b0 and b1 together');
      assert.equal(await queueDepth(w), 0);
      await ws.waitUntil(() => ws.all('message.created').length >= 3);
      assertAckBeforeCreated(ws);
      ws.assertValid();
    });

    test("a socket's send joins its own send still queued, ahead of another socket's queued in between", async (t) => {
      const { w, r1, r2, batches } = await twoRooms(t, backend, 'held', 'shared');
      const alice = await w.connect('alice');
      const bob = await w.connect('bob');
      await Promise.all([alice, bob].flatMap((ws) => [r1, r2].map((r) => ws.first('sync.complete', (f) => f.room_id === r))));
      await whileRoomHeld(w, r1, async (blocked) => {
        alice.send({ type: 'message.send', room_id: r1, content: 'm-a0', client_msg_id: 'a0' });
        await blocked();
        // Queued one after another, each read on its own: alice's b0, bob's c0, alice's b1.
        alice.send({ type: 'message.send', room_id: r2, content: 'm-b0', client_msg_id: 'b0' });
        await until('b0 to be queued', async () => (await queueDepth(w)) === 1);
        bob.send({ type: 'message.send', room_id: r2, content: 'm-c0', client_msg_id: 'c0' });
        await until('c0 to be queued', async () => (await queueDepth(w)) === 2);
        alice.send({ type: 'message.send', room_id: r2, content: 'm-b1', client_msg_id: 'b1' });
        await until('b1 to be queued', async () => (await queueDepth(w)) === 3);
      });
      await alice.first('message.ack', (f) => f.client_msg_id === 'b1', 20_000);
      await bob.first('message.ack', (f) => f.client_msg_id === 'c0', 20_000);
      assert.deepEqual(batches, [1, 3], 'a0 alone, then the three queued behind it');
      // b1 went right behind alice's b0 (one run: one seq UPDATE), ahead of bob's c0.
      assertSeqsInFrameOrder(alice, r2, ['b0', 'b1'], 1);
      assertSeqsInFrameOrder(bob, r2, ['c0'], 3);
      assert.deepEqual(answerKeys(alice), ['a0', 'b0', 'b1']);
      await alice.waitUntil(() => alice.all('message.created').filter((f) => f.room_id === r2).length >= 3);
      assert.deepEqual(alice.all('message.created').filter((f) => f.room_id === r2).map((f) => f.message.client_msg_id), ['b0', 'b1', 'c0'], 'the room sees them in seq order');
      assertAckBeforeCreated(alice);
      alice.assertValid();
      bob.assertValid();
    });
  });
}

/**
 * The WebSocket node's send admission (ws/send-admission.ts): at most WS_SEND_ADMISSION sends are
 * submitted to the durable send path and unanswered at once; beyond it a connection's run of sends
 * waits its turn (first come, first served) as text, and the frames that arrive meanwhile join it.
 * What must not change: every send answered once, in frame order, seqs gap-free; nothing stuck
 * when a waiting connection goes away.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { onSendBatch } from '../../src/store/batch-stats.ts';
import { SendAdmission } from '../../src/ws/send-admission.ts';
import { backends } from '../helpers/backends.ts';
import { until } from '../helpers/until.ts';
import type { WsClient } from '../helpers/ws-client.ts';
import { queueDepth, startWorld, whileRoomHeld } from './harness.ts';

describe('SendAdmission', () => {
  test('admits at once while places are free, then first come first served, counting places at admission', async () => {
    const gate = new SendAdmission(4);
    assert.equal(gate.acquire(() => 3), 3, 'free: admitted at once, no promise');
    assert.equal(gate.acquire(() => 2), 2, 'one place was free: admitted, beyond the capacity by its frames');
    assert.equal(gate.inUse, 5);
    let frames = 1;
    const order: string[] = [];
    const first = gate.acquire(() => frames); // asks how many when admitted, not now
    assert.ok(first instanceof Promise);
    const second = gate.acquire(() => 2) as Promise<number>;
    void (first as Promise<number>).then((n) => order.push(`first:${n}`));
    void second.then((n) => order.push(`second:${n}`));
    assert.equal(gate.waiting, 2);
    frames = 3; // two more frames arrived while it waited
    gate.release(2); // 3 in use: below 4, the first is admitted with its 3
    assert.equal(await first, 3);
    assert.equal(gate.inUse, 6);
    assert.equal(gate.waiting, 1, 'the second still waits: 6 in use');
    gate.release(3);
    gate.release(2); // 1 in use
    assert.equal(await second, 2);
    assert.deepEqual(order, ['first:3', 'second:2']);
    gate.adjust(-1); // a run took fewer frames than its places
    assert.equal(gate.inUse, 2);
    gate.adjust(1);
    assert.equal(gate.inUse, 3);
    assert.equal(gate.waiting, 0);
  });

  test('a queue that never drains keeps its order and counts (past the front being dropped)', async () => {
    const gate = new SendAdmission(1);
    assert.equal(gate.acquire(() => 1), 1);
    const admitted: number[] = [];
    let next = 0;
    const enqueue = () => {
      const id = next++;
      void (gate.acquire(() => 1) as Promise<number>).then(() => admitted.push(id));
    };
    enqueue();
    enqueue();
    for (let i = 0; i < 5000; i++) {
      enqueue(); // always one more waiting than is admitted
      gate.release(1);
      assert.equal(gate.waiting, 2);
    }
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(admitted.length, 5000);
    assert.deepEqual(admitted, Array.from({ length: 5000 }, (_, i) => i), 'first come, first served throughout');
    assert.equal(gate.inUse, 1);
  });

  test('a newcomer waits behind earlier waiters even when a place is free', () => {
    const gate = new SendAdmission(2);
    assert.equal(gate.acquire(() => 2), 2);
    const waiter = gate.acquire(() => 1);
    assert.ok(waiter instanceof Promise);
    gate.release(1); // 1 in use: the waiter is admitted (1 + 1 = 2)
    assert.equal(gate.inUse, 2);
    assert.ok(gate.acquire(() => 1) instanceof Promise, 'full again: waits');
  });
});

type Answer = { key: string; created?: boolean; code?: string };

function answers(ws: WsClient): Answer[] {
  return ws.frames.flatMap((f): Answer[] => {
    if (f.type === 'message.ack') return [{ key: f.client_msg_id ?? '', created: f.created }];
    if (f.type === 'error') return [{ key: f.client_msg_id ?? f.ref ?? '', code: f.code }];
    return [];
  });
}

async function sync(ws: WsClient, ...rooms: string[]): Promise<void> {
  await Promise.all(rooms.map((r) => ws.first('sync.complete', (f) => f.room_id === r)));
}

for (const backend of backends()) {
  describe(`ws send admission [${backend.name}]`, () => {
    test('three sockets bursting into one room through a gate of one place: every send answered in frame order, seqs gap-free', async (t) => {
      const w = await startWorld(t, backend, { wsSendAdmission: 1 });
      const [alice] = await w.users('alice', 'bob', 'carol');
      const room = await w.room(alice!, ['bob', 'carol'], 'gate');
      const sockets = await Promise.all(['alice', 'bob', 'carol'].map((u) => w.connect(u)));
      await Promise.all(sockets.map((ws) => sync(ws, room)));
      const keys = (u: number) => Array.from({ length: 20 }, (_, i) => `${['a', 'b', 'c'][u]}${i}`);
      sockets.forEach((ws, u) => {
        for (const key of keys(u)) ws.send({ type: 'message.send', room_id: room, content: `m-${key}`, client_msg_id: key });
      });
      await Promise.all(sockets.map((ws) => ws.waitUntil(() => ws.all('message.created').length >= 60, 30_000)));
      sockets.forEach((ws, u) => {
        assert.deepEqual(answers(ws), keys(u).map((key) => ({ key, created: true })), 'each send acked once, in frame order');
        const seqs = ws.all('message.ack').map((a) => a.message.seq);
        assert.deepEqual(seqs, [...seqs].sort((x, y) => x - y), 'a socket\'s seqs follow its frames');
        assert.deepEqual(ws.all('message.created').map((f) => f.message.seq), Array.from({ length: 60 }, (_, i) => i + 1), 'the room\'s stream: 1..60, no gap');
        ws.assertValid();
      });
      await until('the gate to empty', async () => w.node.sendAdmission().admitted === 0);
      assert.deepEqual(w.node.sendAdmission(), { admitted: 0, waiting: 0 });
    });
  });
}

/**
 * MariaDB holds a batch at a real row lock, so the gate can be watched while it is full: a socket
 * beyond it waits without being submitted, the frames it receives meanwhile join its run, and a
 * socket that closes while waiting leaves nothing behind.
 */
for (const backend of backends().filter((b) => b.name === 'mysql')) {
  describe(`ws send admission while a batch is held [${backend.name}]`, () => {
    test('beyond the gate a socket waits unsubmitted, its later frames join its run, a closed waiter leaves nothing', async (t) => {
      // Two places; at most 3 frames waiting per socket, so a 4th is refused at once: its answer
      // proves the frames before it reached the node.
      const w = await startWorld(t, backend, { wsSendAdmission: 2, wsMaxPendingFrames: 3 });
      const [alice] = await w.users('alice', 'bob', 'carol', 'dave');
      const held = await w.room(alice!, ['bob'], 'held');
      const free = await w.room(alice!, ['bob', 'carol', 'dave'], 'free');
      const a = await w.connect('alice');
      const b = await w.connect('bob');
      const c = await w.connect('carol');
      const d = await w.connect('dave');
      await Promise.all([sync(a, held, free), sync(b, held, free), sync(c, free), sync(d, free)]);
      const batches: number[] = [];
      t.after(onSendBatch(w.server.running.parts.db, (size) => batches.push(size)));
      const send = (ws: WsClient, room: string, key: string) => ws.send({ type: 'message.send', room_id: room, content: `m-${key}`, client_msg_id: key });

      await whileRoomHeld(w, held, async (blocked) => {
        send(a, held, 'a0');
        await blocked();
        send(b, free, 'b0'); // the second place: queued behind a0's batch
        await until('b0 to be queued', async () => (await queueDepth(w)) === 1);
        assert.deepEqual(w.node.sendAdmission(), { admitted: 2, waiting: 0 });
        send(c, free, 'c0'); // the gate is full: carol waits, nothing of hers is submitted
        await until('carol to wait at the gate', async () => w.node.sendAdmission().waiting === 1);
        send(c, free, 'c1');
        send(c, free, 'c2');
        send(c, free, 'c3'); // a 4th frame in flight: refused at once
        await c.first('error', (f) => f.client_msg_id === 'c3');
        send(d, free, 'd0');
        await until('dave to wait behind carol', async () => w.node.sendAdmission().waiting === 2);
        await d.close(); // gone while waiting: d0 is never submitted
        assert.equal(await queueDepth(w), 1, 'only b0 is queued: the waiting sends were not submitted');
        assert.deepEqual(answers(a), []);
      });

      await c.waitUntil(() => answers(c).length >= 4, 20_000);
      await a.first('message.ack', (f) => f.client_msg_id === 'a0', 20_000);
      await b.first('message.ack', (f) => f.client_msg_id === 'b0', 20_000);
      assert.deepEqual(answers(a), [{ key: 'a0', created: true }]);
      assert.deepEqual(answers(b), [{ key: 'b0', created: true }]);
      assert.deepEqual(answers(c), [
        { key: 'c3', code: 'RATE_LIMIT_EXCEEDED' }, { key: 'c0', created: true }, { key: 'c1', created: true }, { key: 'c2', created: true },
      ]);
      assert.deepEqual(c.all('message.ack').map((f) => f.message.seq), [2, 3, 4], 'carol\'s sends follow b0 in the room');
      // a0 alone; then b0, and carol's three as one run (with b0 or in the next batch): c1 and c2
      // arrived while c0 waited and joined it.
      assert.equal(batches[0], 1);
      assert.ok(JSON.stringify(batches.slice(1)) === '[4]' || JSON.stringify(batches.slice(1)) === '[1,3]', `batches ${batches.join(',')}`);
      await until('the gate to empty', async () => w.node.sendAdmission().admitted === 0);
      assert.deepEqual(w.node.sendAdmission(), { admitted: 0, waiting: 0 });
      const stored = await alice!.GET('/v1/rooms/{room_id}/messages', { params: { path: { room_id: free }, query: { limit: 50 } } });
      assert.deepEqual(stored.data!.data.items.map((m) => m.client_msg_id), ['b0', 'c0', 'c1', 'c2'], 'd0 was not stored');
      // the gate still admits: a new send goes straight through
      send(b, free, 'b1');
      await b.first('message.ack', (f) => f.client_msg_id === 'b1', 20_000);
      for (const ws of [a, b, c]) ws.assertValid();
    });
  });
}

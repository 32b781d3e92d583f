/** Nothing lost: resume after missed messages (also across a node restart), capped replay, delivered cursor, sends during connect. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ApiClient } from '../helpers/client.ts';
import { backends } from '../helpers/backends.ts';
import type { WsClient } from '../helpers/ws-client.ts';
import { startWorld } from './harness.ts';

/** Sends `count` messages over REST, a few at a time. */
async function sendMany(client: ApiClient, roomId: string, count: number, prefix = 'm'): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = ++next;
      const res = await client.POST('/v1/rooms/{room_id}/messages', { params: { path: { room_id: roomId } }, body: { content: `${prefix}${i}` } });
      assert.equal(res.response.status, 201);
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
}

const seqs = (c: WsClient, roomId: string) => c.all('message.created').filter((f) => f.room_id === roomId).map((f) => f.message.seq);
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

for (const backend of backends()) {
  describe(`ws resume (${backend.name})`, () => {
    test('a client that missed 500 messages gets exactly those, in order, then sync.complete', async (t) => {
      const w = await startWorld(t, backend);
      const [alice] = await w.users('alice', 'bob');
      const roomId = await w.room(alice!, ['bob']);
      await sendMany(alice!, roomId, 3);
      const before = await w.connect('bob', { resume: [{ room_id: roomId, last_seq: 0 }] });
      await before.first('sync.complete');
      assert.deepEqual(seqs(before, roomId), [1, 2, 3]);
      await before.close();

      await sendMany(alice!, roomId, 500);
      const after = await w.connect('bob', { resume: [{ room_id: roomId, last_seq: 3 }] });
      const done = await after.first('sync.complete', (f) => f.room_id === roomId, 20_000);
      assert.deepEqual(seqs(after, roomId), range(4, 503));
      assert.deepEqual({ seq: done.seq, replayed: done.replayed, truncated: done.truncated }, { seq: 503, replayed: 500, truncated: null });
      const syncAt = after.frames.indexOf(done);
      assert.ok(after.frames.slice(syncAt).every((f) => f.type !== 'message.created'), 'no replayed frame after sync.complete');
    });

    test('the same after the WebSocket node restarts', async (t) => {
      const w = await startWorld(t, backend);
      const [alice] = await w.users('alice', 'bob');
      const roomId = await w.room(alice!, ['bob']);
      const bob = await w.connect('bob', { resume: [{ room_id: roomId, last_seq: 0 }] });
      await bob.first('sync.complete');
      await w.node.shutdown();
      assert.equal((await bob.closed).code, 4012);
      assert.ok(bob.frames.some((f) => f.type === 'server.shutdown'));

      await sendMany(alice!, roomId, 500);
      const restarted = await w.startNode();
      const again = await w.connect('bob', { url: restarted.wsUrl, resume: [{ room_id: roomId, last_seq: 0 }] });
      const done = await again.first('sync.complete', (f) => f.room_id === roomId, 20_000);
      assert.deepEqual(seqs(again, roomId), range(1, 500));
      assert.equal(done.seq, 500);
    });

    test('a capped replay sends the newest and names the range to fetch over REST', async (t) => {
      const w = await startWorld(t, backend, { replayLimit: 100 });
      const [alice] = await w.users('alice', 'bob');
      const roomId = await w.room(alice!, ['bob']);
      await sendMany(alice!, roomId, 250);
      const bob = await w.connect('bob', { resume: [{ room_id: roomId, last_seq: 0 }] });
      const done = await bob.first('sync.complete', undefined, 20_000);
      assert.deepEqual(done.truncated, { from_seq: 1, to_seq: 150 });
      assert.deepEqual(seqs(bob, roomId), range(151, 250));
      assert.equal(done.replayed, 100);
    });

    test('without resume, replay starts at the delivered cursor (moved by ack)', async (t) => {
      const w = await startWorld(t, backend);
      const [alice] = await w.users('alice', 'bob');
      const roomId = await w.room(alice!, ['bob']);
      await sendMany(alice!, roomId, 5);
      const first = await w.connect('bob');
      await first.first('sync.complete');
      assert.deepEqual(seqs(first, roomId), range(1, 5));
      first.send({ type: 'ack', room_id: roomId, seq: 4 });
      await first.first('receipt', (f) => f.user_id === 'bob' && f.delivered_seq === 4);
      await first.close();
      await sendMany(alice!, roomId, 2, 'late');
      const second = await w.connect('bob');
      await second.first('sync.complete');
      assert.deepEqual(seqs(second, roomId), range(5, 7));
    });

    test('messages sent while a client connects and replays are neither missed nor repeated', async (t) => {
      const w = await startWorld(t, backend);
      const [alice] = await w.users('alice', 'bob');
      const roomId = await w.room(alice!, ['bob']);
      await sendMany(alice!, roomId, 300);
      const sender = await w.connect('alice');
      const total = 600;
      for (let i = 301; i <= total; i++) sender.send({ type: 'message.send', room_id: roomId, content: `c${i}`, client_msg_id: `c${i}` });
      const bob = await w.connect('bob', { resume: [{ room_id: roomId, last_seq: 0 }] });
      await bob.waitUntil(() => seqs(bob, roomId).length >= total, 30_000);
      await sender.waitUntil(() => sender.all('message.ack').length === total - 300, 30_000);
      sender.send({ type: 'message.send', room_id: roomId, content: 'end', client_msg_id: 'end' });
      await bob.first('message.created', (f) => f.message.content === 'end');
      assert.deepEqual(seqs(bob, roomId), range(1, total + 1));
    });
  });
}

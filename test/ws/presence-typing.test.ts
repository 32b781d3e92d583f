/** Presence with a grace period (no flapping on quick reconnects) and typing indicators that expire on the server. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { backends } from '../helpers/backends.ts';
import type { WsClient } from '../helpers/ws-client.ts';
import { startWorld } from './harness.ts';

const presenceOf = (c: WsClient, userId: string) => c.all('presence').filter((f) => f.user_id === userId).map((f) => f.status);
const typingOf = (c: WsClient, userId: string) => c.all('typing').filter((f) => f.user_id === userId).map((f) => f.state);

for (const backend of backends()) {
  describe(`ws presence and typing (${backend.name})`, () => {
    test('online at the first connection, offline only after the grace period, no flap on a quick reconnect', async (t) => {
      const w = await startWorld(t, backend, { presenceGraceMs: 1000 });
      const [alice] = await w.users('alice', 'bob');
      const roomId = await w.room(alice!, ['bob']);
      const bob = await w.connect('bob');
      const a1 = await w.connect('alice');
      const online = await bob.first('presence', (f) => f.user_id === 'alice');
      assert.deepEqual({ room_id: online.room_id, status: online.status }, { room_id: roomId, status: 'online' });

      // A second tab, then closing one: still online, nothing announced.
      const a2 = await w.connect('alice');
      await a1.close();
      // Close the last one and come back within the grace period: still nothing.
      await a2.close();
      const a3 = await w.connect('alice');
      a3.send({ type: 'typing.start', room_id: roomId });
      await bob.first('typing', (f) => f.user_id === 'alice');
      assert.deepEqual(presenceOf(bob, 'alice'), ['online']);

      const closedAt = Date.now();
      await a3.close();
      await bob.first('presence', (f) => f.user_id === 'alice' && f.status === 'offline');
      assert.ok(Date.now() - closedAt >= 900, 'offline waits for the grace period');
      assert.deepEqual(presenceOf(bob, 'alice'), ['online', 'offline']);
    });

    test('typing starts once, expires without a refresh, stops on typing.stop and on close', async (t) => {
      const w = await startWorld(t, backend, { typingTtlMs: 300 });
      const [alice] = await w.users('alice', 'bob');
      const roomId = await w.room(alice!, ['bob']);
      const live = [{ room_id: roomId, last_seq: 0 }];
      const bob = await w.connect('bob', { resume: live });
      const a = await w.connect('alice', { resume: live });
      await bob.first('sync.complete'); // live, so arrival times are the server's

      a.send({ type: 'typing.start', room_id: roomId });
      a.send({ type: 'typing.start', room_id: roomId }); // a refresh: not announced again
      const started = await bob.first('typing', (f) => f.user_id === 'alice');
      assert.deepEqual({ room_id: started.room_id, state: started.state }, { room_id: roomId, state: 'started' });
      const stopped = await bob.first('typing', (f) => f.user_id === 'alice' && f.state === 'stopped');
      const after = bob.arrivalOf(stopped) - bob.arrivalOf(started);
      assert.ok(after >= 200, `expired by the TTL (300 ms), not at once (${after.toFixed(0)} ms)`);
      assert.deepEqual(typingOf(bob, 'alice'), ['started', 'stopped']);

      a.send({ type: 'typing.start', room_id: roomId });
      a.send({ type: 'typing.stop', room_id: roomId });
      await bob.waitUntil(() => typingOf(bob, 'alice').length === 4);
      assert.deepEqual(typingOf(bob, 'alice'), ['started', 'stopped', 'started', 'stopped']);

      a.send({ type: 'typing.start', room_id: roomId });
      await bob.waitUntil(() => typingOf(bob, 'alice').length === 5);
      await a.close();
      await bob.waitUntil(() => typingOf(bob, 'alice').length === 6);
      assert.equal(typingOf(bob, 'alice').at(-1), 'stopped');
    });

    test('typing in a room you are not in is NOT_FOUND', async (t) => {
      const w = await startWorld(t, backend);
      const [alice] = await w.users('alice', 'mallory');
      const roomId = await w.room(alice!, []);
      const m = await w.connect('mallory');
      m.send({ type: 'typing.start', room_id: roomId, ref: 't1' });
      assert.equal((await m.first('error', (f) => f.ref === 't1')).code, 'NOT_FOUND');
    });
  });
}

/** Graceful shutdown and the rate-limit seam. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CloseCode } from '../../src/ws/close-codes.ts';
import { backends } from '../helpers/backends.ts';
import { startWorld } from './harness.ts';

for (const backend of backends()) {
  describe(`ws shutdown and limits (${backend.name})`, () => {
    test('shutdown tells clients, answers every send it took (ack or error, never half), closes with 4012', async (t) => {
      const w = await startWorld(t, backend);
      const [alice] = await w.users('alice', 'bob');
      const roomId = await w.room(alice!, ['bob']);
      const bob = await w.connect('bob');
      for (let i = 1; i <= 200; i++) bob.send({ type: 'message.send', room_id: roomId, content: `m${i}`, client_msg_id: `k${i}` });
      await bob.first('message.ack');
      const began = performance.now();
      const stopping = w.node.shutdown();
      await bob.first('server.shutdown');
      for (let i = 1; i <= 5; i++) bob.send({ type: 'message.send', room_id: roomId, content: `late${i}`, client_msg_id: `late${i}` });
      await stopping;
      assert.ok(performance.now() - began < 10_000, 'within 10 s');
      assert.equal((await bob.closed).code, CloseCode.SERVER_SHUTDOWN);
      const notice = await bob.first('server.shutdown');
      assert.ok(notice.reconnect_after_ms >= 0);

      const acked = bob.all('message.ack').map((f) => f.client_msg_id);
      const refused = bob.all('error').map((f) => f.client_msg_id);
      assert.ok(refused.every((e) => e !== undefined) && bob.all('error').every((e) => e.code === 'SERVICE_UNAVAILABLE'));
      const answered = [...acked, ...refused];
      assert.ok(acked.every((id) => id.startsWith('k')), 'nothing sent after server.shutdown was stored');
      assert.equal(new Set(answered).size, answered.length, 'one answer per send');
      const stored = await alice!.GET('/v1/rooms/{room_id}/messages', { params: { path: { room_id: roomId }, query: { limit: 200 } } });
      assert.deepEqual(stored.data!.data.items.map((m) => m.client_msg_id).sort(), [...acked].sort(), 'stored exactly what was acked');
    });

    test('frames over the tenant rate limit get RATE_LIMIT_EXCEEDED with retry_after_ms', async (t) => {
      let allowed = 2;
      const limiter = { consume: async () => (allowed-- > 0 ? { allowed: true, retryAfterMs: 0 } : { allowed: false, retryAfterMs: 250 }) };
      const w = await startWorld(t, backend, {}, { limiter });
      const [alice] = await w.users('alice');
      const roomId = await w.room(alice!, []);
      const a = await w.connect('alice', { resume: [{ room_id: roomId, last_seq: 0 }] });
      for (let i = 1; i <= 3; i++) a.send({ type: 'message.send', room_id: roomId, content: `m${i}`, client_msg_id: `k${i}` });
      // two tokens: the resume frame and k1
      const limited = await a.first('error', (f) => f.client_msg_id === 'k3');
      assert.deepEqual({ code: limited.code, retry: limited.retry_after_ms }, { code: 'RATE_LIMIT_EXCEEDED', retry: 250 });
      assert.deepEqual(a.all('message.ack').map((f) => f.client_msg_id), ['k1']);
      assert.deepEqual(a.all('error').map((f) => [f.client_msg_id, f.code]), [['k2', 'RATE_LIMIT_EXCEEDED'], ['k3', 'RATE_LIMIT_EXCEEDED']]);
      a.send({ type: 'ping', ref: 'free' }); // pings cost no token
      await a.first('pong');
    });
  });
}

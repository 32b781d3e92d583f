/**
 * The real assembly (`chatapi serve` = src/server.ts start): REST and the WebSocket node in one
 * process sharing domain, bus, tickets and rate limit. A browser-style flow: ticket over REST,
 * WebSocket with `?ticket=`, live delivery of a REST send, a WS send seen over REST, /ready
 * reporting the node's parts, and a graceful close that tells clients to reconnect.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { backends } from '../helpers/backends.ts';
import { startTestServer } from '../helpers/server.ts';
import { WsClient } from '../helpers/ws-client.ts';

for (const backend of backends()) {
  describe(`assembly [${backend.name}]`, () => {
    test('ticket → WebSocket → live delivery both ways → graceful shutdown', async (t) => {
      const s = await startTestServer(backend, {}, { wsNode: { resumeWaitMs: 50 } });
      let closed = false;
      t.after(async () => { if (!closed) await s.close(); });
      assert.ok(s.running.wsPort > 0, 'serve runs the WebSocket node by default');
      const tenant = await s.tenant();
      const alice = await tenant.user('alice');
      await tenant.user('bob');
      const roomId = (await alice.POST('/v1/rooms', { body: { type: 'group', name: 'live', members: ['bob'] } })).data!.data.id;

      const ticket = await s.client(tenant.headers('bob')).POST('/v1/realtime/tickets', {});
      assert.equal(ticket.response.status, 201);
      const { url } = ticket.data!.data;
      const bob = await WsClient.connect(`ws://127.0.0.1:${s.running.wsPort}${url}`, { label: 'bob' });
      const connected = await bob.first('connected');
      assert.equal(connected.user.id, 'bob');
      assert.ok(connected.rooms.some((r) => r.room_id === roomId));
      await bob.first('sync.complete', (f) => f.room_id === roomId);
      // The ticket was single-use: a second connect is closed with the bad-credentials code.
      const replay = await WsClient.connect(`ws://127.0.0.1:${s.running.wsPort}${url}`, { label: 'replay' });
      assert.equal((await replay.closed).code, 4003);

      await alice.POST('/v1/rooms/{room_id}/messages', { params: { path: { room_id: roomId } }, body: { content: 'over REST' } });
      const live = await bob.first('message.created', (f) => f.message.content === 'over REST');
      assert.equal(live.message.seq, 1);

      bob.send({ type: 'message.send', room_id: roomId, content: 'over WS', client_msg_id: 'w1' });
      const ack = await bob.first('message.ack');
      assert.equal(ack.message.seq, 2);
      const history = await alice.GET('/v1/rooms/{room_id}/messages', { params: { path: { room_id: roomId } } });
      assert.deepEqual(history.data!.data.items.map((m) => m.content), ['over REST', 'over WS']);

      const ready = await s.anonymous.GET('/ready', {});
      assert.equal(ready.response.status, 200);
      assert.deepEqual(Object.keys(ready.data!.data.checks).sort(), ['bus', 'database', 'rate_limiter']);

      const closing = s.close();
      closed = true;
      const shutdown = await bob.first('server.shutdown');
      assert.ok(shutdown.reconnect_after_ms >= 0);
      const { code } = await bob.closed;
      assert.equal(code, 4012);
      await closing;
    });
  });
}

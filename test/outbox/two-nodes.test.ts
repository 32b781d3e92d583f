/**
 * Two chatapi processes on one MariaDB share webhook delivery: each event is delivered exactly
 * once when nothing fails (claims are FOR UPDATE SKIP LOCKED plus a lease), in order per room.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { start, type RunningServer } from '../../src/server.ts';
import { backends } from '../helpers/backends.ts';
import { apiClient } from '../helpers/client.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { startReceiver, type Receiver } from '../helpers/webhook-receiver.ts';

const ROOMS = 8;
const PER_ROOM = 25;

for (const backend of backends().filter((b) => b.name === 'mysql')) {
  describe(`two nodes, one database [${backend.name}]`, () => {
    let a: TestServer;
    let b: RunningServer;
    let rx: Receiver;
    const attempts = { a: 0, b: 0 };
    before(async () => {
      a = await startTestServer(backend, { webhookAllowPrivate: true, webhookPollMs: 20 }, { ws: false, outbox: { onAttempt: () => attempts.a++ } });
      b = await start({ ...a.config, webhookPollMs: 20 }, { ws: false, outbox: { onAttempt: () => attempts.b++ } });
      rx = await startReceiver();
    });
    after(async () => {
      await b.close();
      await a.close();
      await rx.close();
    });

    test('each event is delivered once, by one of the nodes, in order per room', async (ctx) => {
      const t = await a.tenant();
      await t.user('alice');
      await t.user('bob');
      const hook = (await t.client.POST('/v1/webhooks', { body: { url: rx.url, event_types: ['message.created'] } })).data!.data;
      rx.secrets = [hook.secret];
      const viaB = apiClient(`http://127.0.0.1:${b.httpPort}`, t.headers('alice'));
      const viaA = t.as('alice');
      const rooms: string[] = [];
      for (let i = 0; i < ROOMS; i++) rooms.push((await viaA.POST('/v1/rooms', { body: { type: 'group', name: `r${i}`, members: ['bob'] } })).data!.data.id);
      await Promise.all(rooms.map(async (room, r) => {
        for (let i = 0; i < PER_ROOM; i++) {
          const via = (i + r) % 2 === 0 ? viaA : viaB;
          const res = await via.POST('/v1/rooms/{room_id}/messages', { params: { path: { room_id: room } }, body: { content: `m${i}` } });
          assert.equal(res.response.status, 201);
        }
      }));
      const total = ROOMS * PER_ROOM;
      await rx.waitForOk(total);
      // Stop both workers (each records what it has in flight first), then one more round each: nothing more may arrive.
      await Promise.all([a.running.outbox.stop(), b.outbox.stop()]);
      await a.running.outbox.runOnce();
      await b.outbox.runOnce();
      assert.equal(rx.received.length, total, 'no event delivered twice');
      assert.equal(new Set(rx.received.map((r) => r.id)).size, total);
      assert.equal(attempts.a + attempts.b, total);
      ctx.diagnostic(`attempts by node: ${attempts.a} + ${attempts.b}`);
      for (const room of rooms) {
        const seqs = rx.received.filter((r) => r.event.room_id === room).map((r) => (r.event.message as { seq: number }).seq);
        assert.deepEqual(seqs, Array.from({ length: PER_ROOM }, (_, i) => i + 1));
      }
      assert.deepEqual(rx.rejected, []);
    });
  });
}

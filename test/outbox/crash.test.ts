/**
 * At least once across a crash, with real processes: `chatapi serve` is SIGKILLed while webhook
 * deliveries are in flight (the receiver holds them unanswered). After a restart on the same
 * database every committed event is delivered (2xx) at least once, none that was not committed
 * appears, and per room the events arrive in seq order.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { backends } from '../helpers/backends.ts';
import { serveProcess, type ServedProcess } from '../helpers/chatapi-process.ts';
import { apiClient, type ApiClient } from '../helpers/client.ts';
import { startReceiver, type Received } from '../helpers/webhook-receiver.ts';

const ROOMS = 3;
const PER_ROOM = 15;

/** Per room, the seqs of the 2xx deliveries in arrival order, each event counted at its first success. */
function deliveredSeqs(ok: Received[]): Map<string, number[]> {
  const seen = new Set<string>();
  const byRoom = new Map<string, number[]>();
  for (const r of ok) {
    if (seen.has(r.id)) continue;
    seen.add(r.id);
    const seq = (r.event.message as { seq: number }).seq;
    byRoom.set(r.event.room_id!, [...(byRoom.get(r.event.room_id!) ?? []), seq]);
  }
  return byRoom;
}

for (const backend of backends()) {
  describe(`webhooks across a crash [${backend.name}]`, () => {
    test('kill -9 mid-delivery: after restart every committed event is delivered, none invented, in order per room', async (t) => {
      const db = await backend.url();
      const rx = await startReceiver();
      const masterKey = 'mk_' + randomBytes(16).toString('hex');
      // A short lease, so the restarted node takes over the dead one's in-flight deliveries soon.
      const env = { DATABASE_URL: db.url, MASTER_KEY: masterKey, WEBHOOK_ALLOW_PRIVATE: 'true', WEBHOOK_TIMEOUT_MS: '1000', WEBHOOK_LEASE_MS: '1500', WEBHOOK_POLL_MS: '50' };
      let node: ServedProcess = await serveProcess(env);
      t.after(async () => {
        await node.kill();
        await rx.close();
        await db.drop();
      });
      const tenant = (await apiClient(node.http, { 'X-Master-Key': masterKey }).POST('/v1/tenants', { body: { name: 'crash' } })).data!.data;
      const as = (user?: string): ApiClient => apiClient(node.http, user ? { 'X-API-Key': tenant.api_key, 'X-User-Id': user } : { 'X-API-Key': tenant.api_key });
      for (const id of ['alice', 'bob']) await as().POST('/v1/users', { body: { id, username: id } });
      const hook = (await as().POST('/v1/webhooks', { body: { url: rx.url, event_types: ['message.created'] } })).data!.data;
      rx.secrets = [hook.secret];
      rx.respond = () => 0; // hold every delivery: each room's first one stays in flight

      const rooms: string[] = [];
      for (let i = 0; i < ROOMS; i++) rooms.push((await as('alice').POST('/v1/rooms', { body: { type: 'group', name: `r${i}`, members: ['bob'] } })).data!.data.id);
      const committed = new Map<string, { room: string; seq: number }>();
      await Promise.all(rooms.map(async (room) => {
        for (let i = 0; i < PER_ROOM; i++) {
          const res = await as('alice').POST('/v1/rooms/{room_id}/messages', { params: { path: { room_id: room } }, body: { content: `m${i}` } });
          assert.equal(res.response.status, 201);
          committed.set(res.data!.data.id, { room, seq: res.data!.data.seq });
        }
      }));
      await rx.waitFor((r) => r.held >= ROOMS, `${ROOMS} deliveries in flight`);

      await node.kill();
      rx.dropHeld();
      rx.respond = () => 200;
      node = await serveProcess(env);
      await rx.waitFor((r) => new Set(r.ok().map((x) => x.id)).size >= committed.size, `all ${committed.size} events delivered`);

      const ok = rx.ok();
      const deliveredIds = new Set(ok.map((r) => (r.event.message as { id: string }).id));
      assert.deepEqual([...deliveredIds].sort(), [...committed.keys()].sort(), 'every committed event, and nothing else');
      const byRoom = deliveredSeqs(ok);
      for (const room of rooms) assert.deepEqual(byRoom.get(room), Array.from({ length: PER_ROOM }, (_, i) => i + 1), `order in room ${room}`);
      assert.deepEqual(rx.rejected, []);
      await node.stop();
    });
  });
}

/**
 * Notifications: sent live as a `notification` frame to every connection of the user, stored for
 * users who are away (unread count in `connected` and GET /v1/me), listed unread first, marked
 * read; idempotent by Idempotency-Key; a signed `notification.created` webhook for users with no
 * open connection. Also the `user.online` / `user.offline` webhooks (offline after the grace period).
 */
import assert from 'node:assert/strict';
import { describe, test, type TestContext } from 'node:test';
import { backends } from '../helpers/backends.ts';
import type { Config } from '../../src/config.ts';
import type { Backend } from '../helpers/backends.ts';
import { startTestServer } from '../helpers/server.ts';
import { startReceiver } from '../helpers/webhook-receiver.ts';
import { WsClient } from '../helpers/ws-client.ts';

/** The real assembly (REST + WS node sharing one presence registry, as `chatapi serve` runs). */
async function startWorld(t: TestContext, backend: Backend, overrides: Partial<Config> = {}) {
  const server = await startTestServer(backend, overrides, { wsNode: { resumeWaitMs: 200 } });
  const tenant = await server.tenant();
  const clients: WsClient[] = [];
  t.after(async () => {
    await Promise.allSettled(clients.map((c) => c.close()));
    await server.close();
  });
  return {
    server, tenant,
    users: (...ids: string[]) => Promise.all(ids.map((id) => tenant.user(id))),
    async connect(userId: string) {
      const client = await WsClient.connect(server.wsUrl, { headers: tenant.headers(userId), label: userId });
      clients.push(client);
      await client.first('connected');
      return client;
    },
  };
}

for (const backend of backends()) {
  describe(`notifications [${backend.name}]`, () => {
    test('live to every connection, stored for the offline, read state, webhook for the offline, idempotent', async (t) => {
      const w = await startWorld(t, backend, { webhookAllowPrivate: true, presenceGraceMs: 100 });
      const rx = await startReceiver();
      t.after(() => rx.close());
      const tenant = w.tenant.client;
      const hook = (await tenant.POST('/v1/webhooks', { body: { url: rx.url, event_types: ['notification.*', 'user.*'] } })).data!.data;
      rx.secrets = [hook.secret];
      await w.users('alice', 'bob');
      const a1 = await w.connect('alice');
      const a2 = await w.connect('alice');
      assert.equal(a1.all('connected')[0]!.unread_notifications, 0);
      await rx.waitFor((r) => r.ok().some((x) => x.event.type === 'user.online' && x.event.user_id === 'alice'), 'user.online for alice');

      const body = { user_ids: ['alice', 'bob'], type: 'mention', title: 'You were mentioned', body: 'in #general', data: { url: '/r/1' } };
      const sent = await tenant.POST('/v1/notifications', { body, headers: { 'Idempotency-Key': 'n-1' } });
      assert.equal(sent.response.status, 201, JSON.stringify(sent.error));
      const [forAlice, forBob] = sent.data!.data.items;
      for (const c of [a1, a2]) {
        const frame = await c.first('notification');
        assert.deepEqual(frame.notification, forAlice);
      }
      const repeat = await tenant.POST('/v1/notifications', { body, headers: { 'Idempotency-Key': 'n-1' } });
      assert.equal(repeat.response.status, 200);
      assert.deepEqual(repeat.data!.data.items.map((n) => n.id), [forAlice!.id, forBob!.id]);
      const clash = await tenant.POST('/v1/notifications', { body: { ...body, title: 'other' }, headers: { 'Idempotency-Key': 'n-1' } });
      assert.equal(clash.response.status, 409);

      // Only bob, who has no connection, is announced to the backend.
      await rx.waitFor((r) => r.ok().some((x) => x.event.type === 'notification.created'), 'notification.created');
      const created = rx.ok().filter((x) => x.event.type === 'notification.created');
      assert.deepEqual(created.map((x) => x.event.user_id), ['bob']);
      assert.deepEqual(created[0]!.event.notification, forBob);

      // Bob comes back: the count is in `connected` and /v1/me; unread first; read state.
      await tenant.POST('/v1/notifications', { body: { user_ids: ['bob'], type: 'order.shipped', title: 'Shipped' } });
      const bob = await w.connect('bob');
      assert.equal(bob.all('connected')[0]!.unread_notifications, 2);
      const asBob = w.tenant.as('bob');
      assert.equal((await asBob.GET('/v1/me', {})).data!.data.unread_notifications, 2);
      const first = (await asBob.GET('/v1/me/notifications', {})).data!.data;
      assert.deepEqual(first.items.map((n) => n.type), ['order.shipped', 'mention']);
      const marked = (await asBob.POST('/v1/me/notifications/read', { body: { ids: [forBob!.id] } })).data!.data;
      assert.deepEqual(marked, { marked: 1, unread_count: 1 });
      const page = (await asBob.GET('/v1/me/notifications', { params: { query: { limit: 1 } } })).data!.data;
      assert.equal(page.items[0]!.type, 'order.shipped', 'unread first');
      const next = (await asBob.GET('/v1/me/notifications', { params: { query: { limit: 1, cursor: page.next_cursor! } } })).data!.data;
      assert.equal(next.items[0]!.id, forBob!.id);
      assert.notEqual(next.items[0]!.read_at, null);
      const all = (await asBob.POST('/v1/me/notifications/read', { body: { up_to_id: page.items[0]!.id } })).data!.data;
      assert.deepEqual(all, { marked: 1, unread_count: 0 });
      assert.deepEqual((await asBob.GET('/v1/me/notifications', { params: { query: { unread_only: true } } })).data!.data.items, []);

      await bob.close();
      await rx.waitFor((r) => r.ok().some((x) => x.event.type === 'user.offline' && x.event.user_id === 'bob'), 'user.offline for bob');
      assert.deepEqual(rx.rejected, []);
    });

    test('who may send, and to whom', async (t) => {
      const w = await startWorld(t, backend);
      const [plain] = await w.users('carl', 'dana');
      const staff = await w.tenant.user('sam', { role: 'staff' });
      const body = { user_ids: ['dana'], type: 'hello', title: 'Hi' };
      assert.equal((await plain!.POST('/v1/notifications', { body })).response.status, 403);
      assert.equal((await staff.POST('/v1/notifications', { body })).response.status, 201);
      const unknown = await staff.POST('/v1/notifications', { body: { ...body, user_ids: ['dana', 'ghost'] } });
      assert.equal(unknown.response.status, 400);
      assert.match(unknown.error!.error.message, /ghost/);
      const noRoom = await staff.POST('/v1/notifications', { body: { ...body, room_id: 'nope' } });
      assert.equal(noRoom.response.status, 404);
      const other = await w.server.tenant('other');
      const blind = await other.client.POST('/v1/notifications', { body });
      assert.equal(blind.response.status, 400, "another tenant's users are unknown");
      const dana = w.tenant.as('dana');
      const bad = await dana.POST('/v1/me/notifications/read', { body: { up_to_id: 'ntf_nope' } });
      assert.equal(bad.response.status, 404);
    });
  });
}

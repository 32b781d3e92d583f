/**
 * Tenants never see each other: every operation that takes an id, called with tenant B's
 * credentials on tenant A's resources, answers NOT_FOUND and changes nothing; no list of B's
 * shows anything of A's.
 */
import { describe, before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import { backends } from '../helpers/backends.ts';
import { startTestServer, type TestServer, type TestTenant } from '../helpers/server.ts';
import type { ApiClient } from '../helpers/client.ts';

for (const backend of backends()) {
  describe(`tenant isolation [${backend.name}]`, () => {
    let s: TestServer;
    let a: TestTenant;
    let b: TestTenant;
    let alice: ApiClient;
    let mallory: ApiClient;
    let roomId: string;
    let messageId: string;
    let tokenId: string;
    let webhookId: string;
    let deliveryId: string;
    before(async () => {
      // A's webhook points at a closed local port: allowed here, and nothing listens there.
      s = await startTestServer(backend, { webhookAllowPrivate: true }, { ws: false, outbox: { autostart: false } });
      a = await s.tenant('A');
      b = await s.tenant('B');
      alice = await a.user('alice');
      await a.user('amy');
      mallory = await b.user('mallory');
      await b.user('bert');
      roomId = (await alice.POST('/v1/rooms', { body: { type: 'group', name: 'a-room', members: ['amy'] } })).data!.data.id;
      messageId = (await alice.POST('/v1/rooms/{room_id}/messages', { params: { path: { room_id: roomId } }, body: { content: 'a secret' } })).data!.data.id;
      tokenId = (await a.client.POST('/v1/users/{user_id}/tokens', { params: { path: { user_id: 'alice' } }, body: {} })).data!.data.token_id;
      webhookId = (await a.client.POST('/v1/webhooks', { body: { url: 'http://127.0.0.1:9/hooks', event_types: ['*'] } })).data!.data.id;
      deliveryId = (await a.client.POST('/v1/webhooks/{webhook_id}/test', { params: { path: { webhook_id: webhookId } } })).data!.data.id;
    });
    after(() => s.close());

    test('every id-taking operation answers NOT_FOUND across tenants', async () => {
      const room = { room_id: roomId };
      const msg = { room_id: roomId, message_id: messageId };
      const calls: [string, () => Promise<{ response: Response; error?: unknown }>][] = [
        ['getUser', () => b.client.GET('/v1/users/{user_id}', { params: { path: { user_id: 'alice' } } })],
        ['updateUser', () => b.client.PATCH('/v1/users/{user_id}', { params: { path: { user_id: 'alice' } }, body: { display_name: 'pwned' } })],
        ['deleteUser', () => b.client.DELETE('/v1/users/{user_id}', { params: { path: { user_id: 'alice' } } })],
        ['mintUserToken', () => b.client.POST('/v1/users/{user_id}/tokens', { params: { path: { user_id: 'alice' } }, body: {} })],
        ['revokeUserToken', () => b.client.DELETE('/v1/users/{user_id}/tokens/{token_id}', { params: { path: { user_id: 'alice', token_id: tokenId } } })],
        ['getRoom', () => mallory.GET('/v1/rooms/{room_id}', { params: { path: room } })],
        ['updateRoom', () => mallory.PATCH('/v1/rooms/{room_id}', { params: { path: room }, body: { name: 'pwned' } })],
        ['deleteRoom', () => mallory.DELETE('/v1/rooms/{room_id}', { params: { path: room } })],
        ['listRoomMembers', () => mallory.GET('/v1/rooms/{room_id}/members', { params: { path: room } })],
        ['addRoomMember', () => mallory.POST('/v1/rooms/{room_id}/members', { params: { path: room }, body: { user_id: 'mallory' } })],
        ['removeRoomMember', () => mallory.DELETE('/v1/rooms/{room_id}/members/{user_id}', { params: { path: { room_id: roomId, user_id: 'amy' } } })],
        ['sendMessage', () => mallory.POST('/v1/rooms/{room_id}/messages', { params: { path: room }, body: { content: 'hi' } })],
        ['listRoomMessages', () => mallory.GET('/v1/rooms/{room_id}/messages', { params: { path: room } })],
        ['getMessage', () => mallory.GET('/v1/rooms/{room_id}/messages/{message_id}', { params: { path: msg } })],
        ['editMessage', () => mallory.PATCH('/v1/rooms/{room_id}/messages/{message_id}', { params: { path: msg }, body: { content: 'x' } })],
        ['deleteMessage', () => mallory.DELETE('/v1/rooms/{room_id}/messages/{message_id}', { params: { path: msg } })],
        ['markRoomRead', () => mallory.POST('/v1/rooms/{room_id}/read', { params: { path: room }, body: { seq: 1 } })],
        ['ackDelivery', () => mallory.POST('/v1/acks', { body: { room_id: roomId, seq: 1 } })],
        ...webhookCalls(b.client),
      ];
      for (const [name, call] of calls) {
        const res = await call();
        assert.equal(res.response.status, 404, `${name} across tenants answered ${res.response.status}`);
        assert.equal((res.error as { error: { code: string } }).error.code, 'NOT_FOUND', name);
      }
      // Nothing changed on A's side.
      const still = await alice.GET('/v1/rooms/{room_id}', { params: { path: room } });
      assert.equal(still.data!.data.name, 'a-room');
      assert.deepEqual(still.data!.data.members.map((m) => m.user_id).sort(), ['alice', 'amy']);
      const me = await alice.GET('/v1/me', {});
      assert.equal(me.data!.data.display_name, null);
      const msgs = await alice.GET('/v1/rooms/{room_id}/messages', { params: { path: room } });
      assert.deepEqual(msgs.data!.data.items.map((m) => m.content), ['a secret']);
    });

    function webhookCalls(c: ApiClient): [string, () => Promise<{ response: Response; error?: unknown }>][] {
      const hook = { webhook_id: webhookId };
      const dlv = { webhook_id: webhookId, delivery_id: deliveryId };
      const range = { since: '2000-01-01T00:00:00.000Z', until: '2100-01-01T00:00:00.000Z' };
      return [
        ['getWebhook', () => c.GET('/v1/webhooks/{webhook_id}', { params: { path: hook } })],
        ['updateWebhook', () => c.PATCH('/v1/webhooks/{webhook_id}', { params: { path: hook }, body: { enabled: false } })],
        ['deleteWebhook', () => c.DELETE('/v1/webhooks/{webhook_id}', { params: { path: hook } })],
        ['rotateWebhookSecret', () => c.POST('/v1/webhooks/{webhook_id}/rotate-secret', { params: { path: hook }, body: {} })],
        ['sendTestWebhook', () => c.POST('/v1/webhooks/{webhook_id}/test', { params: { path: hook } })],
        ['listWebhookDeliveries', () => c.GET('/v1/webhooks/{webhook_id}/deliveries', { params: { path: hook } })],
        ['getWebhookDelivery', () => c.GET('/v1/webhooks/{webhook_id}/deliveries/{delivery_id}', { params: { path: dlv } })],
        ['replayWebhookDelivery', () => c.POST('/v1/webhooks/{webhook_id}/deliveries/{delivery_id}/replay', { params: { path: dlv } })],
        ['replayWebhookDeliveries', () => c.POST('/v1/webhooks/{webhook_id}/deliveries/replay', { params: { path: hook }, body: range })],
      ];
    }

    test("A's webhook is unchanged and B lists no webhooks", async () => {
      const hook = await a.client.GET('/v1/webhooks/{webhook_id}', { params: { path: { webhook_id: webhookId } } });
      assert.equal(hook.data!.data.enabled, true);
      assert.equal(hook.data!.data.previous_secret_expires_at, null);
      assert.deepEqual((await b.client.GET('/v1/webhooks', {})).data!.data.items, []);
    });

    test("no list of B's shows anything of A's", async () => {
      const users = await b.client.GET('/v1/users', { params: { query: { limit: 200 } } });
      assert.deepEqual(users.data!.data.items.map((u) => u.id).sort(), ['bert', 'mallory']);
      const rooms = await mallory.GET('/v1/rooms', {});
      assert.deepEqual(rooms.data!.data.items, []);
      const feed = await mallory.GET('/v1/messages', { params: { query: { limit: 200 } } });
      assert.deepEqual(feed.data!.data.items, []);
    });

    test("X-User-Id cannot name another tenant's user", async () => {
      const res = await s.client(b.headers('alice')).GET('/v1/me', {});
      assert.equal(res.response.status, 401);
    });
  });
}

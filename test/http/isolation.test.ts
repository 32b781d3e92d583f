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
    let keyId: string;
    before(async () => {
      s = await startTestServer(backend, {}, { ws: false });
      a = await s.tenant('A');
      b = await s.tenant('B');
      alice = await a.user('alice');
      await a.user('amy');
      mallory = await b.user('mallory');
      await b.user('bert');
      roomId = (await alice.POST('/v1/rooms', { body: { type: 'group', name: 'a-room', members: ['amy'] } })).data!.data.id;
      messageId = (await alice.POST('/v1/rooms/{room_id}/messages', { params: { path: { room_id: roomId } }, body: { content: 'a secret' } })).data!.data.id;
      tokenId = (await a.client.POST('/v1/users/{user_id}/tokens', { params: { path: { user_id: 'alice' } }, body: {} })).data!.data.token_id;
      keyId = (await a.client.POST('/v1/tenants/{tenant_id}/publishable-keys', { params: { path: { tenant_id: a.id } } })).data!.data.key.id;
    });
    after(() => s.close());

    test('every id-taking operation answers NOT_FOUND across tenants', async () => {
      const room = { room_id: roomId };
      const msg = { room_id: roomId, message_id: messageId };
      const tenant = { tenant_id: a.id };
      const key = { tenant_id: a.id, key_id: keyId };
      const calls: [string, () => Promise<{ response: Response; error?: unknown }>][] = [
        ['getTenant', () => b.client.GET('/v1/tenants/{tenant_id}', { params: { path: tenant } })],
        ['updateTenant', () => b.client.PATCH('/v1/tenants/{tenant_id}', { params: { path: tenant }, body: { settings: { allowed_origins: [] } } })],
        ['createPublishableKey', () => b.client.POST('/v1/tenants/{tenant_id}/publishable-keys', { params: { path: tenant } })],
        ['listPublishableKeys', () => b.client.GET('/v1/tenants/{tenant_id}/publishable-keys', { params: { path: tenant } })],
        ['rotatePublishableKey', () => b.client.POST('/v1/tenants/{tenant_id}/publishable-keys/{key_id}/rotate', { params: { path: key } })],
        ['revokePublishableKey', () => b.client.DELETE('/v1/tenants/{tenant_id}/publishable-keys/{key_id}', { params: { path: key } })],
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
      ];
      for (const [name, call] of calls) {
        const res = await call();
        assert.equal(res.response.status, 404, `${name} across tenants answered ${res.response.status}`);
        assert.equal((res.error as { error: { code: string } }).error.code, 'NOT_FOUND', name);
      }
      // Nothing changed on A's side.
      const keys = await a.client.GET('/v1/tenants/{tenant_id}/publishable-keys', { params: { path: tenant } });
      assert.deepEqual(keys.data!.data.items.map((k) => k.id), [keyId]);
      const still = await alice.GET('/v1/rooms/{room_id}', { params: { path: room } });
      assert.equal(still.data!.data.name, 'a-room');
      assert.deepEqual(still.data!.data.members.map((m) => m.user_id).sort(), ['alice', 'amy']);
      const me = await alice.GET('/v1/me', {});
      assert.equal(me.data!.data.display_name, null);
      const msgs = await alice.GET('/v1/rooms/{room_id}/messages', { params: { path: room } });
      assert.deepEqual(msgs.data!.data.items.map((m) => m.content), ['a secret']);
    });

    test("no list of B's shows anything of A's", async () => {
      const users = await b.client.GET('/v1/users', { params: { query: { limit: 200 } } });
      assert.deepEqual(users.data!.data.items.map((u) => u.id).sort(), ['bert', 'mallory']);
      const rooms = await mallory.GET('/v1/rooms', {});
      assert.deepEqual(rooms.data!.data.items, []);
      const feed = await mallory.GET('/v1/messages', { params: { query: { limit: 200 } } });
      assert.deepEqual(feed.data!.data.items, []);
    });

    test("sign-in calls act in the publishable key's own tenant only", async () => {
      const keyOf = async (t: TestTenant) => {
        const path = { params: { path: { tenant_id: t.id } } };
        await t.client.PATCH('/v1/tenants/{tenant_id}', { ...path, body: { settings: { auth: { flows: { password: true, email_code: true } } } } });
        return s.client({ 'X-Publishable-Key': (await t.client.POST('/v1/tenants/{tenant_id}/publishable-keys', path)).data!.data.publishable_key });
      };
      const [browserA, browserB] = [await keyOf(a), await keyOf(b)];
      const body = { username: 'zoe', password: 'zoe password 1' };
      const session = (await browserA.POST('/v1/auth/register', { body })).data!.data;
      assert.equal((await browserB.POST('/v1/auth/login', { body })).response.status, 401, "B's key cannot log into A's account");
      assert.equal((await browserB.POST('/v1/auth/refresh', { body: { refresh_token: session.refresh_token } })).response.status, 401);
      assert.equal((await browserB.POST('/v1/auth/logout', { body: { refresh_token: session.refresh_token } })).response.status, 200);
      const still = await browserA.POST('/v1/auth/refresh', { body: { refresh_token: session.refresh_token } });
      assert.equal(still.response.status, 200, "B's logout did not touch A's session");
      assert.equal((await b.client.GET('/v1/users', { params: { query: { limit: 200 } } })).data!.data.items.some((u) => u.username === 'zoe'), false);
      // requestRoomCode answers 202 for any room (no enumeration), but B's key mails nothing for A's room.
      const room = { params: { path: { room_id: roomId } } };
      assert.equal((await browserB.POST('/v1/rooms/{room_id}/auth-codes', { ...room, body: { email: 'm@example.com' } })).response.status, 202);
      assert.deepEqual(await s.running.parts.db('room_codes').where({ room_id: roomId }), []);
      assert.equal((await browserB.POST('/v1/rooms/{room_id}/auth-codes/exchange', { ...room, body: { email: 'm@example.com', code: '123456' } })).response.status, 401);
    });

    test("X-User-Id cannot name another tenant's user", async () => {
      const res = await s.client(b.headers('alice')).GET('/v1/me', {});
      assert.equal(res.response.status, 401);
    });
  });
}

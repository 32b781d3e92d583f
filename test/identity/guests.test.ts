/**
 * Guests end to end: a browser with only a publishable key enters as a guest, chats over the
 * WebSocket, and once the guest's time is up (a fake clock) can neither call REST nor connect,
 * and is purged with its tokens.
 */
import { describe, before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import { backends } from '../helpers/backends.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { WsClient } from '../helpers/ws-client.ts';
import { ORIGIN, signInTenant, type SignInTenant } from './helpers.ts';

for (const backend of backends()) {
  describe(`guests [${backend.name}]`, () => {
    let s: TestServer;
    let t: SignInTenant;
    const clock = { now: Date.now() };
    before(async () => {
      s = await startTestServer(backend, { authCacheMs: 0 }, { domain: { now: () => clock.now } });
      t = await signInTenant(s, { guest: true }, 'G', { guest_ttl_seconds: 3600, guest_permissions: { can_send_message: false } });
    });
    after(() => s.close());

    test('guest → connect → expiry → refused → purged', async () => {
      const entered = await t.browser.POST('/v1/auth/guest', { body: { display_name: 'Visitor' } });
      assert.equal(entered.response.status, 201);
      const { user, access_token: token, expires_at } = entered.data!.data;
      assert.equal(user.role, 'guest');
      assert.equal(user.display_name, 'Visitor');
      assert.equal(user.permissions.can_send_message, false, "the tenant's guest permissions apply");
      assert.equal(Date.parse(expires_at), Date.parse(token.expires_at));
      const bearer = { Authorization: `Bearer ${token.token}` };
      assert.equal((await s.client(bearer).GET('/v1/me', {})).data!.data.id, user.id);

      const ws = await WsClient.connect(s.wsUrl, { headers: { ...bearer, Origin: ORIGIN } });
      assert.equal((await ws.first('connected')).user.id, user.id);
      ws.socket.close();

      clock.now += 3601_000;
      assert.equal((await s.client(bearer).GET('/v1/me', {})).response.status, 401);
      const late = await WsClient.connect(s.wsUrl, { headers: bearer });
      assert.equal((await late.closed).code, 4003, 'an expired guest cannot connect');

      assert.equal(await s.running.domain.accounts.purgeExpiredGuests(), 1);
      assert.equal((await t.client.GET('/v1/users/{user_id}', { params: { path: { user_id: user.id } } })).response.status, 404);
      const tokens = await s.running.parts.db('user_tokens').where({ user_id: user.id });
      assert.deepEqual(tokens, [], 'its tokens went with it');
    });

    test('guest login is NOT_FOUND while the flow is off', async () => {
      const off = await signInTenant(s, { password: true }, 'no guests');
      assert.equal((await off.browser.POST('/v1/auth/guest', { body: {} })).response.status, 404);
    });
  });
}

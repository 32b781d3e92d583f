/**
 * Tenants (master key), users (tenant key or admins), roles and permissions without silent
 * escalation, user tokens (mint, use, revoke, lifetime caps) and GET /v1/me.
 */
import { describe, before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import { backends } from '../helpers/backends.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

for (const backend of backends()) {
  describe(`tenants and users [${backend.name}]`, () => {
    let s: TestServer;
    before(async () => { s = await startTestServer(backend, {}, { ws: false }); });
    after(() => s.close());

    test('tenant lifecycle: create shows the key once, list, get, update settings, delete', async () => {
      const created = await s.master.POST('/v1/tenants', { body: { name: 'Acme', settings: { rate_limit_per_second: 50 } } });
      assert.equal(created.response.status, 201);
      const { tenant, api_key } = created.data!.data;
      assert.match(api_key, /^ck_/);
      assert.equal(tenant.settings.rate_limit_per_second, 50);
      assert.equal(tenant.settings.rate_limit_burst, s.config.rateLimitBurst, 'unset settings take the platform default');
      const got = await s.master.GET('/v1/tenants/{tenant_id}', { params: { path: { tenant_id: tenant.id } } });
      assert.equal(got.data!.data.name, 'Acme');
      assert.ok(!JSON.stringify(got.data).includes(api_key), 'the key is never shown again');
      const list = await s.master.GET('/v1/tenants', {});
      assert.ok(list.data!.data.items.some((x) => x.id === tenant.id));
      const updated = await s.master.PATCH('/v1/tenants/{tenant_id}', { params: { path: { tenant_id: tenant.id } }, body: { settings: { allowed_origins: ['https://a.example'] } } });
      assert.deepEqual(updated.data!.data.settings.allowed_origins, ['https://a.example']);
      assert.equal(updated.data!.data.settings.rate_limit_per_second, 50, 'settings merge field by field');
      const del = await s.master.DELETE('/v1/tenants/{tenant_id}', { params: { path: { tenant_id: tenant.id } } });
      assert.equal(del.response.status, 200);
      const useKey = await s.client({ 'X-API-Key': api_key }).GET('/v1/users', {});
      assert.equal(useKey.response.status, 401);
      const missing = await s.master.GET('/v1/tenants/{tenant_id}', { params: { path: { tenant_id: tenant.id } } });
      assert.equal(missing.response.status, 404);
    });

    test('a tenant key cannot manage tenants, and the master key cannot act as a tenant', async () => {
      const t = await s.tenant();
      const asTenant = await t.client.GET('/v1/tenants', {});
      assert.equal(asTenant.response.status, 401);
      const asMaster = await s.master.GET('/v1/users', {});
      assert.equal(asMaster.response.status, 401);
    });

    test('rotating the key: the new one works, the old one stops at once', async () => {
      const t = await s.tenant();
      const rotated = await s.master.POST('/v1/tenants/{tenant_id}/keys', { params: { path: { tenant_id: t.id } } });
      assert.equal(rotated.response.status, 201);
      const fresh = rotated.data!.data.api_key;
      assert.notEqual(fresh, t.apiKey);
      assert.equal((await s.client({ 'X-API-Key': t.apiKey }).GET('/v1/users', {})).response.status, 401);
      assert.equal((await s.client({ 'X-API-Key': fresh }).GET('/v1/users', {})).response.status, 200);
    });

    test('users: create, list paginated, get, update, delete; duplicates conflict', async () => {
      const t = await s.tenant();
      const c = await t.client.POST('/v1/users', { body: { id: 'u1', username: 'one', email: 'one@example.com', display_name: 'One' } });
      assert.equal(c.response.status, 201);
      assert.equal(c.data!.data.role, 'user');
      assert.equal(c.data!.data.permissions.can_send_message, true);
      assert.equal(c.data!.data.permissions.can_delete_message, false);
      const dupId = await t.client.POST('/v1/users', { body: { id: 'u1', username: 'other' } });
      assert.equal(dupId.response.status, 409);
      const dupName = await t.client.POST('/v1/users', { body: { id: 'u2', username: 'one' } });
      assert.equal(dupName.response.status, 409);
      for (const id of ['u2', 'u3', 'u4']) await t.client.POST('/v1/users', { body: { id, username: id } });
      const ids: string[] = [];
      let cursor: string | undefined;
      for (let guard = 0; guard < 10; guard++) {
        const page = await t.client.GET('/v1/users', { params: { query: { limit: 3, cursor } } });
        ids.push(...page.data!.data.items.map((u) => u.id));
        cursor = page.data!.data.next_cursor ?? undefined;
        if (!cursor) break;
      }
      assert.deepEqual(ids.sort(), ['u1', 'u2', 'u3', 'u4']);
      const upd = await t.as('u1').PATCH('/v1/users/{user_id}', { params: { path: { user_id: 'u1' } }, body: { display_name: 'Uno' } });
      assert.equal(upd.data!.data.display_name, 'Uno');
      const del = await t.client.DELETE('/v1/users/{user_id}', { params: { path: { user_id: 'u4' } } });
      assert.equal(del.response.status, 200);
      assert.equal((await t.client.GET('/v1/users/{user_id}', { params: { path: { user_id: 'u4' } } })).response.status, 404);
    });

    test('only the tenant key or an admin sets role or permissions; never a silent escalation', async () => {
      const t = await s.tenant();
      await t.user('plain');
      await t.user('boss', { role: 'admin' });
      const self = await t.as('plain').PATCH('/v1/users/{user_id}', { params: { path: { user_id: 'plain' } }, body: { role: 'admin' } });
      assert.equal(self.response.status, 403);
      assert.equal(self.error!.error.code, 'AUTHORIZATION_ERROR');
      const perms = await t.as('plain').PATCH('/v1/users/{user_id}', { params: { path: { user_id: 'plain' } }, body: { permissions: { can_delete_message: true } } });
      assert.equal(perms.response.status, 403);
      const other = await t.as('plain').PATCH('/v1/users/{user_id}', { params: { path: { user_id: 'boss' } }, body: { display_name: 'x' } });
      assert.equal(other.response.status, 403);
      const still = await t.client.GET('/v1/users/{user_id}', { params: { path: { user_id: 'plain' } } });
      assert.equal(still.data!.data.role, 'user');
      const byAdmin = await t.as('boss').PATCH('/v1/users/{user_id}', { params: { path: { user_id: 'plain' } }, body: { role: 'moderator', permissions: { can_delete_message: true } } });
      assert.equal(byAdmin.response.status, 200);
      assert.equal(byAdmin.data!.data.role, 'moderator');
      const superByAdmin = await t.as('boss').PATCH('/v1/users/{user_id}', { params: { path: { user_id: 'plain' } }, body: { role: 'superadmin' } });
      assert.equal(superByAdmin.response.status, 403);
      const createByPlain = await t.as('plain').POST('/v1/users', { body: { id: 'sneaky', username: 'sneaky', role: 'admin' } });
      assert.equal(createByPlain.response.status, 403);
    });

    test('user tokens: mint, use as Bearer, /v1/me, lifetime caps, revoke', async () => {
      const t = await s.tenant();
      await t.user('tok');
      const minted = await t.client.POST('/v1/users/{user_id}/tokens', { params: { path: { user_id: 'tok' } }, body: { ttl_seconds: 600 } });
      assert.equal(minted.response.status, 201);
      const { token, token_id, expires_at } = minted.data!.data;
      const ttl = Date.parse(expires_at) - Date.now();
      assert.ok(ttl > 590_000 && ttl <= 600_000, `ttl ${ttl}`);
      const bearer = s.client({ Authorization: `Bearer ${token}` });
      const me = await bearer.GET('/v1/me', {});
      assert.equal(me.data!.data.id, 'tok');
      const tooLong = await t.client.POST('/v1/users/{user_id}/tokens', { params: { path: { user_id: 'tok' } }, body: { ttl_seconds: 2592000 + 1 } });
      assert.equal(tooLong.response.status, 400);
      const byUser = await t.as('tok').POST('/v1/users/{user_id}/tokens', { params: { path: { user_id: 'tok' } }, body: {} });
      assert.equal(byUser.response.status, 403, 'only the tenant key mints tokens');
      const unknown = await t.client.POST('/v1/users/{user_id}/tokens', { params: { path: { user_id: 'nobody' } }, body: {} });
      assert.equal(unknown.response.status, 404);
      const revoked = await bearer.DELETE('/v1/users/{user_id}/tokens/{token_id}', { params: { path: { user_id: 'tok', token_id } } });
      assert.equal(revoked.response.status, 200);
      assert.equal((await bearer.GET('/v1/me', {})).response.status, 401);
    });

    test('a token of one tenant never reaches another tenant', async () => {
      const a = await s.tenant('A');
      const b = await s.tenant('B');
      await a.user('same');
      await b.user('same');
      await b.user('bonly');
      const tok = (await a.client.POST('/v1/users/{user_id}/tokens', { params: { path: { user_id: 'same' } }, body: {} })).data!.data.token;
      const viaToken = s.client({ Authorization: `Bearer ${tok}` });
      const users = await viaToken.GET('/v1/users', {});
      assert.deepEqual(users.data!.data.items.map((u) => u.id), ['same']);
      const other = await viaToken.GET('/v1/users/{user_id}', { params: { path: { user_id: 'bonly' } } });
      assert.equal(other.response.status, 404);
    });
  });
}

/**
 * Per-tenant sign-in settings and publishable keys: who may change them (the operator; the tenant
 * itself for its auth settings and origins only), the key lifecycle, and CORS for browser pages.
 */
import { describe, before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import { backends } from '../helpers/backends.ts';
import { startTestServer, type TestServer, type TestTenant } from '../helpers/server.ts';

for (const backend of backends()) {
  describe(`tenant auth settings and publishable keys [${backend.name}]`, () => {
    let s: TestServer;
    let t: TestTenant;
    let other: TestTenant;
    before(async () => {
      s = await startTestServer(backend, {}, { ws: false });
      t = await s.tenant('T');
      other = await s.tenant('O');
    });
    after(() => s.close());
    const path = () => ({ params: { path: { tenant_id: t.id } } });

    test('flows start off; the tenant switches them on, but not its limits', async () => {
      const got = await t.client.GET('/v1/tenants/{tenant_id}', path());
      assert.deepEqual(got.data!.data.settings.auth.flows, { password: false, guest: false, email_code: false, invites: false });
      const on = await t.client.PATCH('/v1/tenants/{tenant_id}', { ...path(), body: { settings: { auth: { flows: { guest: true }, guest_ttl_seconds: 600 }, allowed_origins: ['https://app.example'] } } });
      assert.equal(on.response.status, 200);
      assert.deepEqual(on.data!.data.settings.auth.flows, { password: false, guest: true, email_code: false, invites: false });
      assert.equal(on.data!.data.settings.auth.guest_ttl_seconds, 600);
      const limits = await t.client.PATCH('/v1/tenants/{tenant_id}', { ...path(), body: { settings: { rate_limit_per_second: 100_000 } } });
      assert.equal(limits.response.status, 403);
      const bad = await t.client.PATCH('/v1/tenants/{tenant_id}', { ...path(), body: { settings: { auth: { guest_ttl_seconds: 1 } } } });
      assert.equal(bad.response.status, 400);
    });

    test('an admin user may change them; a plain user may not; another tenant sees NOT_FOUND', async () => {
      const admin = await t.user('ada', { role: 'admin' });
      const plain = await t.user('pat');
      const body = { settings: { auth: { flows: { password: true } } } };
      assert.equal((await admin.PATCH('/v1/tenants/{tenant_id}', { ...path(), body })).response.status, 200);
      assert.equal((await plain.PATCH('/v1/tenants/{tenant_id}', { ...path(), body })).response.status, 403);
      assert.equal((await other.client.PATCH('/v1/tenants/{tenant_id}', { ...path(), body })).response.status, 404);
      assert.equal((await other.client.GET('/v1/tenants/{tenant_id}', path())).response.status, 404);
    });

    test('publishable keys: created (shown once), listed, rotated, revoked', async () => {
      const made = await t.client.POST('/v1/tenants/{tenant_id}/publishable-keys', path());
      assert.equal(made.response.status, 201);
      const { key, publishable_key: secret } = made.data!.data;
      assert.match(secret, /^pk_[A-Za-z0-9_-]{43}$/);
      assert.equal((await s.running.domain.publishableKeys.authenticate(secret))?.tenant.id, t.id);
      const listed = await s.master.GET('/v1/tenants/{tenant_id}/publishable-keys', path());
      assert.deepEqual(listed.data!.data.items.map((k) => k.id), [key.id]);
      assert.equal(JSON.stringify(listed.data).includes(secret), false, 'the secret is never listed');
      const keyPath = { params: { path: { tenant_id: t.id, key_id: key.id } } };
      assert.equal((await other.client.POST('/v1/tenants/{tenant_id}/publishable-keys/{key_id}/rotate', keyPath)).response.status, 404);
      const rotated = await t.client.POST('/v1/tenants/{tenant_id}/publishable-keys/{key_id}/rotate', keyPath);
      assert.equal(rotated.data!.data.key.id, key.id);
      assert.equal(await s.running.domain.publishableKeys.authenticate(secret), null, 'the old secret stops at once');
      const fresh = rotated.data!.data.publishable_key;
      assert.equal((await s.running.domain.publishableKeys.authenticate(fresh))?.keyId, key.id);
      assert.equal((await t.client.DELETE('/v1/tenants/{tenant_id}/publishable-keys/{key_id}', keyPath)).response.status, 200);
      assert.equal(await s.running.domain.publishableKeys.authenticate(fresh), null);
      assert.equal((await t.client.DELETE('/v1/tenants/{tenant_id}/publishable-keys/{key_id}', keyPath)).response.status, 404);
    });

    test('CORS: preflights need no credentials; responses are shared only with listed origins', async () => {
      const preflight = await fetch(`${s.baseUrl}/v1/auth/guest`, {
        method: 'OPTIONS',
        headers: { Origin: 'https://app.example', 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'x-publishable-key,content-type' },
      });
      assert.equal(preflight.status, 204);
      assert.equal(preflight.headers.get('access-control-allow-origin'), 'https://app.example');
      assert.match(preflight.headers.get('access-control-allow-headers') ?? '', /X-Publishable-Key/);
      assert.doesNotMatch(preflight.headers.get('access-control-allow-headers') ?? '', /X-API-Key/i);
      const listed = await s.client({ ...t.headers(), Origin: 'https://app.example' }).GET('/v1/tenants/{tenant_id}', path());
      assert.equal(listed.response.headers.get('access-control-allow-origin'), 'https://app.example');
      assert.match(listed.response.headers.get('access-control-expose-headers') ?? '', /X-Request-Id/);
      const unlisted = await s.client({ ...t.headers(), Origin: 'https://evil.example' }).GET('/v1/tenants/{tenant_id}', path());
      assert.equal(unlisted.response.headers.get('access-control-allow-origin'), null);
    });
  });
}

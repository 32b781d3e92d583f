/**
 * Malformed requests below the JSON layer (path encoding, forbidden keys, content encoding)
 * are the client's mistake: 400 VALIDATION_ERROR, never INTERNAL_ERROR. Found by QA probing.
 */
import { describe, before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { backends } from '../helpers/backends.ts';
import { startTestServer, type TestServer, type TestTenant } from '../helpers/server.ts';

for (const backend of backends().slice(0, 1)) {
  describe(`malformed requests [${backend.name}]`, () => {
    let s: TestServer;
    let t: TestTenant;
    before(async () => { s = await startTestServer(backend, {}, { ws: false }); t = await s.tenant(); await t.user('alice'); });
    after(() => s.close());

    test('a path with broken percent-encoding is 400 VALIDATION_ERROR, not 500', async () => {
      for (const path of ['/v1/users/%zz', '/v1/rooms/%E0%A4%A', '/v1/rooms/%FF%FE', '/v1/rooms/x/messages/%zz']) {
        const res = await s.raw('GET', path, { headers: t.headers('alice') });
        assert.equal(res.status, 400, `${path}: ${JSON.stringify(res.body)}`);
        assert.equal(res.body.error.code, 'VALIDATION_ERROR');
      }
      const tenant = await s.raw('GET', '/v1/tenants/%zz', { headers: { 'X-Master-Key': s.masterKey } });
      assert.equal(tenant.status, 400);
    });

    test('a JSON body with a __proto__ key is 400 VALIDATION_ERROR, not 500', async () => {
      const res = await s.raw('POST', '/v1/users', {
        headers: { ...t.headers(), 'Content-Type': 'application/json' },
        body: '{"id":"p","username":"p","__proto__":{"role":"superadmin"}}',
      });
      assert.equal(res.status, 400, JSON.stringify(res.body));
      assert.equal(res.body.error.code, 'VALIDATION_ERROR');
    });

    test('a body that claims gzip but is not is 400; real gzip JSON works', async () => {
      const bad = await s.raw('POST', '/v1/users', { headers: { ...t.headers(), 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' }, body: 'not gzip' });
      assert.equal(bad.status, 400, JSON.stringify(bad.body));
      const res = await s.raw('POST', '/v1/users', {
        headers: { ...t.headers(), 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' },
        body: gzipSync('{"id":"gz","username":"gz"}'),
      });
      assert.equal(res.status, 201);
    });
  });
}

/**
 * A notification's `data`, like a message's `meta`, is bounded in nesting (16) and size (512
 * keys and items) before anything recursive touches it: 5000 levels deep is a 400 naming `data`,
 * not a stack overflow and a 500 (found by the schema fuzzer).
 */
import { describe, before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import { backends } from '../helpers/backends.ts';
import { startTestServer, type TestServer, type TestTenant } from '../helpers/server.ts';

for (const backend of backends()) {
  describe(`notification data bounds [${backend.name}]`, () => {
    let s: TestServer;
    let t: TestTenant;
    before(async () => {
      s = await startTestServer(backend, {}, { ws: false, outbox: { autostart: false } });
      t = await s.tenant();
      await t.user('amy');
    });
    after(() => s.close());

    const send = (data: string) => s.raw('POST', '/v1/notifications', {
      headers: { ...t.headers(), 'Content-Type': 'application/json' },
      body: `{"user_ids":["amy"],"type":"t","title":"hi","data":${data}}`,
    });

    test('5000 levels deep is 400 VALIDATION_ERROR naming data; 16 levels pass', async () => {
      const deep = await send('{"a":'.repeat(5000) + '1' + '}'.repeat(5000));
      assert.equal(deep.status, 400, JSON.stringify(deep.body));
      assert.equal(deep.body.error.code, 'VALIDATION_ERROR');
      assert.ok(deep.body.error.details.some((d: { field: string }) => d.field === 'data'));
      const ok = await send('{"a":'.repeat(15) + '1' + '}'.repeat(15));
      assert.equal(ok.status, 201, JSON.stringify(ok.body));
    });
  });
}

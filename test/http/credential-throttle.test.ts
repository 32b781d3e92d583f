/**
 * Failed credential attempts are counted per client IP (AUTH_FAILURES_PER_IP per
 * AUTH_FAILURE_WINDOW_SECONDS): past the limit a wrong master key, API key, publishable key or
 * token answers 429 RATE_LIMIT_EXCEEDED with Retry-After, while a valid credential from the
 * same address is still served.
 */
import assert from 'node:assert/strict';
import { describe, before, after, test } from 'node:test';
import { backends } from '../helpers/backends.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { WsClient } from '../helpers/ws-client.ts';

const LIMIT = 3;

for (const backend of backends()) {
  describe(`failed credential attempts are throttled per IP [${backend.name}]`, () => {
    let s: TestServer;
    before(async () => {
      s = await startTestServer(backend, { authFailuresPerIp: LIMIT });
    });
    after(() => s.close());

    test(`after ${LIMIT} failures every wrong credential answers 429 + Retry-After; valid callers are served`, async () => {
      const t = await s.tenant('T');
      const badKey = s.client({ 'X-API-Key': 'ck_wrong' });
      for (let i = 0; i < LIMIT; i++) assert.equal((await badKey.GET('/v1/users', {})).response.status, 401);
      const attempts = [
        await badKey.GET('/v1/users', {}),
        await s.client({ Authorization: 'Bearer not.a.token' }).GET('/v1/users', {}),
        await s.client({ 'X-Master-Key': 'mk_wrong' }).GET('/v1/tenants', {}),
        await s.client({ 'X-Publishable-Key': 'pk_wrong' }).POST('/v1/auth/guest', { body: {} }),
      ];
      for (const res of attempts) {
        assert.equal(res.response.status, 429);
        assert.equal((res.error as { error: { code: string } }).error.code, 'RATE_LIMIT_EXCEEDED');
        assert.ok(Number(res.response.headers.get('Retry-After')) >= 1);
      }
      assert.equal((await t.client.GET('/v1/users', {})).response.status, 200, 'a valid API key from the throttled address');
      assert.equal((await s.master.GET('/v1/tenants', {})).response.status, 200, 'a valid master key from the throttled address');
    });

    test('refused WebSocket credentials (upgrade and auth frame) close with 4003 and count against the address', async () => {
      const fresh = await startTestServer(backend, { authFailuresPerIp: 2 });
      try {
        const byKey = await WsClient.connect(fresh.wsUrl, { headers: { 'X-API-Key': 'ck_wrong', 'X-User-Id': 'a' } });
        assert.equal((await byKey.closed).code, 4003);
        const byFrame = await WsClient.connect(fresh.wsUrl);
        byFrame.send({ type: 'auth', token: 'not.a.token' });
        assert.equal((await byFrame.closed).code, 4003);
        // The count is written after the close: poll REST until it shows (each try is itself a refusal, so at most one more).
        const res = await fresh.client({ 'X-API-Key': 'ck_wrong' }).GET('/v1/users', {});
        const again = res.response.status === 429 ? res : await fresh.client({ 'X-API-Key': 'ck_wrong' }).GET('/v1/users', {});
        assert.equal(again.response.status, 429);
      } finally {
        await fresh.close();
      }
    });
  });
}

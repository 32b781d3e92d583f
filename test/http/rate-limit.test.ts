/**
 * The tenant rate limit as REST clients see it: headers on every response, a 429 envelope with
 * Retry-After after the burst, a retry after Retry-After succeeds, other tenants and wrong keys
 * are unaffected, and GET /v1/rate-limit reports the bucket without spending from it.
 * (Bucket arithmetic is tested with an injected clock in test/load/.)
 */
import { describe, before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import { backends } from '../helpers/backends.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const [backend] = backends();

describe(`rate limit over REST [${backend.name}]`, () => {
  let s: TestServer;
  before(async () => { s = await startTestServer(backend, { rateLimitPerSecond: 1, rateLimitBurst: 5 }, { ws: false }); });
  after(() => s.close());

  test('every tenant response carries the limit headers', async () => {
    const t = await s.tenant();
    const res = await s.raw('GET', '/v1/users', { headers: t.headers() });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('ratelimit-policy') ?? '', /q=1/);
    assert.match(res.headers.get('ratelimit') ?? '', /r=\d+/);
    assert.equal(res.headers.get('x-ratelimit-limit'), '1');
    assert.equal(res.headers.get('x-ratelimit-remaining'), '4');
    assert.ok(res.headers.get('x-ratelimit-reset'));
  });

  test('past the burst: 429 RATE_LIMIT_EXCEEDED with Retry-After; others unaffected', async () => {
    const a = await s.tenant('A');
    const b = await s.tenant('B');
    const statuses: number[] = [];
    let rejected: Awaited<ReturnType<TestServer['raw']>> | undefined;
    for (let i = 0; i < 7; i++) {
      const res = await s.raw('GET', '/v1/users', { headers: a.headers() });
      statuses.push(res.status);
      if (res.status === 429) rejected = res;
    }
    assert.deepEqual(statuses.slice(0, 5), [200, 200, 200, 200, 200]);
    assert.equal(statuses[6], 429);
    assert.ok(rejected);
    assert.equal(rejected.body.error.code, 'RATE_LIMIT_EXCEEDED');
    const retryAfter = Number(rejected.headers.get('retry-after'));
    assert.ok(retryAfter >= 1 && retryAfter <= 2, `Retry-After ${retryAfter}`);
    // Another tenant and a wrong key are not affected by A's empty bucket.
    assert.equal((await s.raw('GET', '/v1/users', { headers: b.headers() })).status, 200);
    assert.equal((await s.raw('GET', '/v1/users', { headers: { 'X-API-Key': 'ck_wrong' } })).status, 401);
    // The state endpoint is not counted and shows the empty bucket.
    const state = await s.client(a.headers()).GET('/v1/rate-limit', {});
    assert.equal(state.response.status, 200);
    assert.equal(state.data!.data.limit, 1);
    assert.equal(state.data!.data.burst, 5);
    assert.equal(state.data!.data.remaining, 0);
  });

  test('wrong keys do not drain a tenant', async () => {
    const t = await s.tenant();
    for (let i = 0; i < 10; i++) await s.raw('GET', '/v1/users', { headers: { 'X-API-Key': t.apiKey + 'x' } });
    const res = await s.raw('GET', '/v1/users', { headers: t.headers() });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-ratelimit-remaining'), '4');
  });
});

// The Koa rate-limit middleware on a bare Koa app: headers on every counted response, the 429
// envelope with a Retry-After that suffices, no body parsing or handler work when rejected,
// unauthenticated and wrong-key requests never counted against a tenant.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import Koa from 'koa';
import bodyParser from 'koa-bodyparser';
import { createTenantLimiter } from '../../src/ratelimit/index.ts';
import { rateLimitMiddleware } from '../../src/ratelimit/middleware.ts';
import { cachedTenantResolver, resolveFromAuthState } from '../../src/ratelimit/resolver.ts';
import { fakeClock, quietLog } from './support.ts';

async function startApp(t: { after(fn: () => unknown): void }) {
  const clock = fakeClock();
  const limiter = await createTenantLimiter({ prefix: 'x:', log: quietLog(), now: clock.now });
  const lookups: string[] = [];
  const resolver = cachedTenantResolver({
    byApiKey: async (key) => {
      lookups.push(key);
      if (key === 'key-a') return { id: 'ten_a', settings: { rate_limit_per_second: 2, rate_limit_burst: 3 } };
      if (key === 'key-b') return { id: 'ten_b', settings: null };
      return null;
    },
  }, { defaults: { rateLimitPerSecond: 100, rateLimitBurst: 100 }, now: clock.now });
  const counters = { parsed: 0, handled: 0 };
  const app = new Koa();
  app.use(async (ctx, next) => { ctx.state.requestId = 'req-1'; await next(); });
  app.use(rateLimitMiddleware(limiter, resolver));
  app.use(bodyParser({ onerror: () => {} }));
  app.use(async (ctx, next) => { if (ctx.request.body) counters.parsed++; await next(); });
  app.use((ctx) => {
    counters.handled++;
    if (!['key-a', 'key-b'].includes(ctx.get('X-API-Key'))) { ctx.status = 401; ctx.body = { success: false }; return; }
    ctx.body = { success: true, data: ctx.state.rateLimit?.tenantId ?? null, error: null };
  });
  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => new Promise((resolve) => server.close(resolve)));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const post = (key?: string) => fetch(`${base}/v1/rooms`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(key ? { 'X-API-Key': key } : {}) },
    body: JSON.stringify({ type: 'group', members: [] }),
  });
  return { clock, post, counters, lookups };
}

test('counted responses carry the limit state', async (t) => {
  const { post } = await startApp(t);
  const res = await post('key-a');
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('ratelimit-policy'), '"tenant";q=2;w=1;burst=3');
  assert.equal(res.headers.get('ratelimit'), '"tenant";r=2;t=1');
  assert.equal(res.headers.get('x-ratelimit-limit'), '2');
  assert.equal(res.headers.get('x-ratelimit-remaining'), '2');
  assert.equal(res.headers.get('x-ratelimit-reset'), '1');
  assert.equal(res.headers.get('retry-after'), null);
});

test('an empty bucket answers 429 before body parsing, with a Retry-After that suffices', async (t) => {
  const { post, counters, clock } = await startApp(t);
  for (let i = 0; i < 3; i++) assert.equal((await post('key-a')).status, 200);
  const parsedBefore = counters.parsed;
  const handledBefore = counters.handled;
  const res = await post('key-a');
  assert.equal(res.status, 429);
  assert.equal(res.headers.get('retry-after'), '1');
  assert.equal(res.headers.get('x-ratelimit-remaining'), '0');
  assert.equal(res.headers.get('ratelimit'), '"tenant";r=0;t=2');
  assert.deepEqual(await res.json(), {
    success: false,
    data: null,
    error: {
      code: 'RATE_LIMIT_EXCEEDED',
      message: 'Rate limit exceeded: 2 requests/s with bursts of 3; retry after 1 s',
      details: [],
      request_id: 'req-1',
    },
  });
  assert.deepEqual([counters.parsed, counters.handled], [parsedBefore, handledBefore]);
  clock.advance(Number(res.headers.get('retry-after')) * 1000);
  assert.equal((await post('key-a')).status, 200);
});

test('one tenant flooding does not touch another tenant', async (t) => {
  const { post } = await startApp(t);
  for (let i = 0; i < 10; i++) await post('key-a');
  const res = await post('key-b');
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('x-ratelimit-remaining'), '99');
});

test('unauthenticated and wrong-key requests are not counted, and wrong keys are cached', async (t) => {
  const { post, lookups } = await startApp(t);
  for (let i = 0; i < 20; i++) {
    const res = await post(i % 2 ? 'wrong-key' : undefined);
    assert.equal(res.status, 401);
    assert.equal(res.headers.get('x-ratelimit-remaining'), null);
  }
  assert.deepEqual(lookups, ['wrong-key'], 'a wrong key is looked up once per negative TTL');
  const res = await post('key-a');
  assert.equal(res.headers.get('x-ratelimit-remaining'), '2', 'the real tenant still has its full bucket');
});

test('exempt requests get the headers without taking a token', async (t) => {
  const limiter = await createTenantLimiter({ prefix: 'x:', log: quietLog(), now: fakeClock().now });
  const app = new Koa();
  app.use(async (ctx, next) => { ctx.state.auth = { tenant: { id: 'ten_a', settings: null } }; await next(); });
  app.use(rateLimitMiddleware(limiter, resolveFromAuthState({ rateLimitPerSecond: 5, rateLimitBurst: 5 }), {
    exempt: (ctx) => ctx.path === '/v1/rate-limit',
  }));
  app.use((ctx) => { ctx.body = { success: true, data: null, error: null }; });
  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => new Promise((resolve) => server.close(resolve)));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  await fetch(`${base}/v1/me`);
  for (let i = 0; i < 3; i++) {
    const res = await fetch(`${base}/v1/rate-limit`);
    assert.equal(res.headers.get('x-ratelimit-remaining'), '4');
  }
  assert.equal((await fetch(`${base}/v1/me`)).headers.get('x-ratelimit-remaining'), '3');
});

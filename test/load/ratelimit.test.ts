// Token-bucket semantics, identical for the in-memory and the Redis limiter (same suite, two
// backends), plus Redis sharing across nodes and the Redis-down fallback.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { createTenantLimiter, limitsFor, type TenantLimiter } from '../../src/ratelimit/index.ts';
import { retryAfterSeconds, rateLimitHeaders } from '../../src/ratelimit/headers.ts';
import { REDIS_URL, fakeClock, quietLog, redisCleanup, startProxy } from './support.ts';

const R100 = { rate: 100, burst: 100 };

interface Backend {
  name: string;
  make(t: { after(fn: () => unknown): void }, now: () => number): Promise<TenantLimiter>;
}

const backends: Backend[] = [
  { name: 'memory', make: async (_t, now) => createTenantLimiter({ prefix: 'x:', log: quietLog(), now }) },
  {
    name: 'redis',
    make: async (t, now) => {
      const prefix = `chatapi-test-${randomUUID()}:`;
      const limiter = await createTenantLimiter({ redisUrl: REDIS_URL, prefix, log: quietLog(), now });
      assert.equal(limiter.mode(), 'redis', 'Redis at 127.0.0.1:6379 must be reachable for this suite');
      t.after(async () => { await limiter.close(); await redisCleanup(prefix); });
      return limiter;
    },
  },
];

for (const backend of backends) {
  describe(`token bucket (${backend.name})`, () => {
    test('a full bucket allows exactly `burst` requests at once, then rejects', async (t) => {
      const clock = fakeClock();
      const limiter = await backend.make(t, clock.now);
      const limits = { rate: 10, burst: 25 };
      for (let i = 0; i < 25; i++) {
        const d = await limiter.consume('a', limits);
        assert.equal(d.allowed, true, `request ${i + 1}`);
        assert.equal(d.remaining, 24 - i);
        assert.equal(d.limit, 10);
      }
      const over = await limiter.consume('a', limits);
      assert.equal(over.allowed, false);
      assert.equal(over.remaining, 0);
      assert.equal(over.retryAfterMs, 100); // one token per 100 ms at 10/s
      assert.equal(over.resetMs, 2500); // 25 tokens at 10/s
      assert.equal(over.policy, '"tenant";q=10;w=1;burst=25');
    });

    test('refill is continuous: one token every 1/rate seconds, capped at burst', async (t) => {
      const clock = fakeClock();
      const limiter = await backend.make(t, clock.now);
      for (let i = 0; i < 100; i++) await limiter.consume('a', R100);
      assert.equal((await limiter.state('a', R100)).remaining, 0);
      clock.advance(9);
      assert.equal((await limiter.consume('a', R100)).allowed, false);
      clock.advance(1);
      assert.equal((await limiter.consume('a', R100)).allowed, true);
      clock.advance(55);
      assert.equal((await limiter.state('a', R100)).remaining, 5);
      clock.advance(60_000);
      const full = await limiter.state('a', R100);
      assert.deepEqual([full.remaining, full.resetMs], [100, 0]);
    });

    test('sustained overload is accepted at exactly rate × time + burst', async (t) => {
      const clock = fakeClock();
      const limiter = await backend.make(t, clock.now);
      const limits = { rate: 100, burst: 100 };
      let accepted = 0;
      // 150 requests/s offered for 10 s, at exact arrival times (open model)
      for (let i = 0; i < 1500; i++) {
        clock.set(Math.round((i * 1000) / 150));
        if ((await limiter.consume('a', limits)).allowed) accepted++;
      }
      const elapsed = Math.round((1499 * 1000) / 150) / 1000;
      const allowed = limits.burst + limits.rate * elapsed;
      assert.ok(Math.abs(accepted - allowed) <= 1, `accepted ${accepted}, bucket allows ${allowed}`);
    });

    test('fractional rates hold too (3/s, burst 1)', async (t) => {
      const clock = fakeClock();
      const limiter = await backend.make(t, clock.now);
      const limits = { rate: 3, burst: 1 };
      let accepted = 0;
      for (let ms = 0; ms < 10_000; ms += 10) {
        clock.set(ms);
        if ((await limiter.consume('a', limits)).allowed) accepted++;
      }
      assert.equal(accepted, 30);
    });

    test('waiting Retry-After (or retryAfterMs) always finds a token', async (t) => {
      const clock = fakeClock();
      const limiter = await backend.make(t, clock.now);
      const limits = { rate: 0.5, burst: 2 };
      await limiter.consume('a', limits);
      await limiter.consume('a', limits);
      const rejected = await limiter.consume('a', limits);
      assert.equal(rejected.retryAfterMs, 2000);
      assert.equal(retryAfterSeconds(rejected), 2);
      clock.advance(rejected.retryAfterMs - 1);
      assert.equal((await limiter.consume('a', limits)).allowed, false);
      clock.advance(1);
      assert.equal((await limiter.consume('a', limits)).allowed, true);
      // a 100/s bucket: the wait is 10 ms, Retry-After rounds up to 1 s, which also suffices
      for (let i = 0; i < 100; i++) await limiter.consume('b', R100);
      const r = await limiter.consume('b', R100);
      assert.equal(retryAfterSeconds(r), 1);
      clock.advance(1000);
      assert.equal((await limiter.consume('b', R100)).allowed, true);
    });

    test('tenants are isolated and state() does not take a token', async (t) => {
      const clock = fakeClock();
      const limiter = await backend.make(t, clock.now);
      for (let i = 0; i < 101; i++) await limiter.consume('flood', R100);
      const quiet = await limiter.state('quiet', R100);
      assert.deepEqual([quiet.allowed, quiet.remaining], [true, 100]);
      assert.equal((await limiter.state('quiet', R100)).remaining, 100);
      assert.equal((await limiter.consume('quiet', R100)).remaining, 99);
    });

    test('invalid limits are a programming error', async (t) => {
      const limiter = await backend.make(t, fakeClock().now);
      await assert.rejects(limiter.consume('a', { rate: 0, burst: 1 }), RangeError);
      await assert.rejects(limiter.consume('a', { rate: 1, burst: 0.5 }), RangeError);
    });
  });
}

describe('limits and headers', () => {
  test('tenant settings override config defaults', () => {
    const defaults = { rateLimitPerSecond: 100, rateLimitBurst: 100 };
    assert.deepEqual(limitsFor(undefined, defaults), { rate: 100, burst: 100 });
    assert.deepEqual(limitsFor({ rate_limit_per_second: 5 }, defaults), { rate: 5, burst: 100 });
    assert.deepEqual(limitsFor({ rate_limit_per_second: 5, rate_limit_burst: 7 }, defaults), { rate: 5, burst: 7 });
  });

  test('headers follow the IETF draft structured-field form', async () => {
    const clock = fakeClock();
    const limiter = await createTenantLimiter({ prefix: 'x:', log: quietLog(), now: clock.now });
    const d = await limiter.consume('a', { rate: 100, burst: 150 });
    assert.deepEqual(rateLimitHeaders(d), {
      'RateLimit-Policy': '"tenant";q=100;w=1;burst=150',
      RateLimit: '"tenant";r=149;t=1',
      'X-RateLimit-Limit': '100',
      'X-RateLimit-Remaining': '149',
      'X-RateLimit-Reset': '1',
    });
  });
});

describe('Redis-shared limiter', () => {
  test('two nodes share one bucket per tenant', async (t) => {
    const prefix = `chatapi-test-${randomUUID()}:`;
    const clock = fakeClock();
    const [a, b] = await Promise.all([1, 2].map(() =>
      createTenantLimiter({ redisUrl: REDIS_URL, prefix, log: quietLog(), now: clock.now })));
    t.after(async () => { await a.close(); await b.close(); await redisCleanup(prefix); });
    let accepted = 0;
    for (let i = 0; i < 100; i++) {
      if ((await (i % 2 ? a : b).consume('t1', { rate: 10, burst: 30 })).allowed) accepted++;
    }
    assert.equal(accepted, 30);
    clock.advance(1000);
    const decisions = await Promise.all([a, b].flatMap((n) => [1, 2, 3, 4, 5, 6].map(() =>
      n.consume('t1', { rate: 10, burst: 30 }))));
    assert.equal(decisions.filter((d) => d.allowed).length, 10);
  });

  test('with Redis server time (no injected clock) the burst still holds exactly', async (t) => {
    const prefix = `chatapi-test-${randomUUID()}:`;
    const limiter = await createTenantLimiter({ redisUrl: REDIS_URL, prefix, log: quietLog() });
    t.after(async () => { await limiter.close(); await redisCleanup(prefix); });
    const limits = { rate: 0.001, burst: 20 }; // no refill within the test
    const results = await Promise.all(Array.from({ length: 50 }, () => limiter.consume('t', limits)));
    assert.equal(results.filter((d) => d.allowed).length, 20);
    const redis = new Redis(REDIS_URL);
    t.after(() => redis.disconnect());
    assert.deepEqual(await redis.keys(`${prefix}*`), [`${prefix}rl:t`]);
  });

  test('Redis unreachable at start: limits locally, degraded, logged', async (t) => {
    const log = quietLog();
    const limiter = await createTenantLimiter({
      redisUrl: 'redis://127.0.0.1:1', prefix: 'x:', log, connectWaitMs: 300, now: fakeClock().now,
    });
    t.after(() => limiter.close());
    assert.equal(limiter.degraded(), true);
    assert.equal(limiter.mode(), 'redis-degraded');
    let accepted = 0;
    for (let i = 0; i < 10; i++) if ((await limiter.consume('a', { rate: 1, burst: 4 })).allowed) accepted++;
    assert.equal(accepted, 4);
    assert.equal(log.warnings.length, 1, 'the outage is logged once, not per request');
  });

  test('Redis lost and regained: falls back, then shares again', async (t) => {
    const prefix = `chatapi-test-${randomUUID()}:`;
    const proxy = await startProxy(6379);
    const log = quietLog();
    const limiter = await createTenantLimiter({
      redisUrl: `redis://127.0.0.1:${proxy.port}`, prefix, log, now: fakeClock().now, commandTimeoutMs: 200,
    });
    t.after(async () => { await limiter.close(); await proxy.close(); await redisCleanup(prefix); });
    const limits = { rate: 1, burst: 3 };
    assert.equal(limiter.degraded(), false);
    assert.equal((await limiter.consume('a', limits)).remaining, 2);

    const down = log.nextWarning();
    await proxy.stop();
    await down;
    assert.equal(limiter.degraded(), true);
    const local = await limiter.consume('a', limits); // local bucket starts full
    assert.deepEqual([local.allowed, local.remaining], [true, 2]);

    const back = log.nextInfo();
    await proxy.resume();
    await back;
    assert.equal(limiter.degraded(), false);
    assert.equal((await limiter.consume('a', limits)).remaining, 1, 'the shared bucket is used again');
  });
});

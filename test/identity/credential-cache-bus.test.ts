/**
 * The REST credential cache (AUTH_CACHE_MS) of every node drops what a revocation signal names
 * as soon as the signal arrives over the bus: with a long cache, a token revoked and a key rotated
 * on one node are refused by another node that had just accepted (and cached) them.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { describe, before, after, test } from 'node:test';
import { Redis } from 'ioredis';
import { start, type RunningServer } from '../../src/server.ts';
import { createLogger } from '../../src/log.ts';
import { backends } from '../helpers/backends.ts';
import { apiClient, type ApiClient } from '../helpers/client.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const REDIS_URL = process.env.TEST_REDIS_URL;

for (const backend of REDIS_URL ? backends() : []) {
  describe(`REST credential caches follow revocations across nodes [${backend.name}]`, () => {
    const prefix = `chatapi-test-${randomBytes(6).toString('hex')}:`;
    let s: TestServer;
    let other: RunningServer;
    let onOther: (headers: Record<string, string>) => ApiClient;
    before(async () => {
      // A cache far longer than the test: only the bus signal can make the other node forget.
      s = await startTestServer(backend, { redisUrl: REDIS_URL, redisPrefix: prefix, authCacheMs: 600_000 }, { ws: false });
      other = await start(s.config, { ws: false, log: createLogger('silent') });
      onOther = (headers) => apiClient(`http://127.0.0.1:${other.httpPort}`, headers);
    });
    after(async () => {
      await other.close();
      await s.close();
      const redis = new Redis(REDIS_URL!);
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length) await redis.del(...keys);
      await redis.quit();
    });

    /** Polls the other node until it answers `status` (each try one round trip), for at most 5 s. */
    const eventually = async (probe: () => Promise<{ response: Response }>, status: number) => {
      const until = performance.now() + 5000;
      let last = 0;
      while (performance.now() < until) {
        last = (await probe()).response.status;
        if (last === status) return;
        await delay(20);
      }
      assert.equal(last, status, 'the other node still answers from its cache');
    };

    test('a revoked token and a rotated API key are refused by the other node', async () => {
      const t = await s.tenant('C');
      await t.user('ann');
      const minted = (await t.client.POST('/v1/users/{user_id}/tokens', { params: { path: { user_id: 'ann' } }, body: {} })).data!.data;
      const byToken = onOther({ Authorization: `Bearer ${minted.token}` });
      const byKey = onOther({ 'X-API-Key': t.apiKey });
      assert.equal((await byToken.GET('/v1/rooms', {})).response.status, 200);
      assert.equal((await byKey.GET('/v1/users', {})).response.status, 200);

      await t.client.DELETE('/v1/users/{user_id}/tokens/{token_id}', { params: { path: { user_id: 'ann', token_id: minted.token_id } } });
      await eventually(() => byToken.GET('/v1/rooms', {}), 401);
      await s.master.POST('/v1/tenants/{tenant_id}/keys', { params: { path: { tenant_id: t.id } } });
      await eventually(() => byKey.GET('/v1/users', {}), 401);
    });
  });
}

/**
 * Failed-attempt counters for credentials (logins, emailed codes, invite passwords, bad keys):
 * rate-limiter-flexible fixed windows, in process memory on a single node or in Redis when
 * REDIS_URL is set, so every node counts the same failures. A key over its limit is refused
 * before any expensive work (password hashing) is done.
 */
import { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { AttemptLimiter, AttemptLimits } from '../domain/attempts.ts';

export interface AttemptLimitersOptions {
  redisUrl?: string;
  prefix?: string;
}

function limiterOf(limiter: RateLimiterAbstract, points: number): AttemptLimiter {
  return {
    async blockedForMs(key) {
      const res = await limiter.get(key);
      return res && res.consumedPoints >= points ? Math.max(1, res.msBeforeNext) : 0;
    },
    async fail(key) {
      await limiter.penalty(key, 1);
    },
    async count(key) {
      try {
        await limiter.consume(key, 1);
        return 0;
      } catch (res) {
        if (res instanceof Error) throw res;
        return Math.max(1, (res as { msBeforeNext: number }).msBeforeNext);
      }
    },
    async reset(key) {
      await limiter.delete(key);
    },
  };
}

/** One factory per process; `limiter(name, limits)` gives a counter family (name namespaces its keys). */
export function createAttemptLimiters(opts: AttemptLimitersOptions = {}) {
  const redis = opts.redisUrl ? new Redis(opts.redisUrl, { maxRetriesPerRequest: 2 }) : undefined;
  redis?.on('error', () => {}); // surfaced by the failing command
  const prefix = `${opts.prefix ?? 'chatapi:'}att:`;
  return {
    limiter(name: string, limits: AttemptLimits): AttemptLimiter {
      const common = { keyPrefix: `${prefix}${name}`, points: limits.points, duration: limits.windowSeconds };
      const limiter = redis ? new RateLimiterRedis({ ...common, storeClient: redis }) : new RateLimiterMemory(common);
      return limiterOf(limiter, limits.points);
    },
    async close() {
      await redis?.quit().catch(() => {});
    },
  };
}

export type AttemptLimiters = ReturnType<typeof createAttemptLimiters>;

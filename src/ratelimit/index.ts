/**
 * Per-tenant rate limiting: a token bucket (bucket.ts) kept in process memory on a single node,
 * or in Redis when REDIS_URL is set so that all API/WS nodes share one bucket per tenant.
 * If Redis is unreachable the node limits locally (each node then grants the full rate on its
 * own), logs the transition once, and reports `degraded()` for /ready until Redis is back.
 */
import type { BucketDecision, BucketLimits } from './bucket.ts';
import { type Clock, MemoryBuckets } from './memory.ts';
import { RedisBuckets } from './redis.ts';

export type { BucketDecision, BucketLimits } from './bucket.ts';
export { policyItem } from './bucket.ts';

export type RateLimitDecision = BucketDecision;

export interface TenantLimiter {
  /** Takes one token from the tenant's bucket. Never rejects (falls back to local limits). */
  consume(tenantId: string, limits: BucketLimits): Promise<RateLimitDecision>;
  /**
   * Synchronous consume, present only while limiting in process memory (no Redis): lets hot
   * paths (the REST middleware, WS frames) skip a promise. Callers fall back to consume().
   */
  consumeNow?(tenantId: string, limits: BucketLimits): RateLimitDecision;
  /** The tenant's current state without taking a token (`allowed` is always true). */
  state(tenantId: string, limits: BucketLimits): Promise<RateLimitDecision>;
  /** 'memory' | 'redis' (shared) | 'redis-degraded' (Redis down, limiting locally) */
  mode(): 'memory' | 'redis' | 'redis-degraded';
  /** true while Redis is configured but unusable; surface it in /ready */
  degraded(): boolean;
  close(): Promise<void>;
}

export interface LimiterLog {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

export interface TenantLimiterOptions {
  redisUrl?: string;
  /** key prefix, e.g. config.redisPrefix ('chatapi:'); keys are `${prefix}rl:${tenantId}` */
  prefix: string;
  log: LimiterLog;
  /** injectable clock (ms); memory limiter and tests. Redis uses its own TIME unless set. */
  now?: Clock;
  /** how long start-up waits for Redis before starting degraded (default 2000 ms) */
  connectWaitMs?: number;
  commandTimeoutMs?: number;
}

/** Limits for a tenant: its settings override the config defaults. */
export function limitsFor(
  settings: { rate_limit_per_second?: number | null; rate_limit_burst?: number | null } | null | undefined,
  defaults: { rateLimitPerSecond: number; rateLimitBurst: number },
): BucketLimits {
  return {
    rate: settings?.rate_limit_per_second ?? defaults.rateLimitPerSecond,
    burst: settings?.rate_limit_burst ?? defaults.rateLimitBurst,
  };
}

export async function createTenantLimiter(opts: TenantLimiterOptions): Promise<TenantLimiter> {
  const local = new MemoryBuckets(opts.now);
  if (!opts.redisUrl) return memoryLimiter(local);
  const redis = new RedisBuckets({
    url: opts.redisUrl, prefix: opts.prefix, now: opts.now, commandTimeoutMs: opts.commandTimeoutMs,
  });
  const limiter = new SharedLimiter(redis, local, opts.log);
  await limiter.connect(opts.connectWaitMs ?? 2000);
  return limiter;
}

function memoryLimiter(local: MemoryBuckets): TenantLimiter {
  return {
    consume: async (tenantId, limits) => local.consume(tenantId, limits),
    consumeNow: (tenantId, limits) => local.consume(tenantId, limits),
    state: async (tenantId, limits) => local.peek(tenantId, limits),
    mode: () => 'memory',
    degraded: () => false,
    close: async () => local.clear(),
  };
}

class SharedLimiter implements TenantLimiter {
  private failing = false;

  constructor(
    private readonly redis: RedisBuckets,
    private readonly local: MemoryBuckets,
    private readonly log: LimiterLog,
  ) {
    const client = redis.client;
    // ioredis emits 'error' on every failed reconnect; the transition log below is what matters
    client.on('error', (err: Error) => this.markFailing(err));
    client.on('ready', () => this.markHealthy());
  }

  async connect(waitMs: number): Promise<void> {
    const ready = this.redis.client.connect().then(() => true, () => false);
    const timeout = new Promise<boolean>((resolve) => setTimeout(resolve, waitMs, false).unref());
    if (!(await Promise.race([ready, timeout]))) {
      this.markFailing(new Error(`Redis not ready after ${waitMs} ms`));
    }
  }

  consume(tenantId: string, limits: BucketLimits): Promise<RateLimitDecision> {
    return this.run(tenantId, limits, 'consume');
  }

  state(tenantId: string, limits: BucketLimits): Promise<RateLimitDecision> {
    return this.run(tenantId, limits, 'peek');
  }

  mode(): 'redis' | 'redis-degraded' {
    return this.degraded() ? 'redis-degraded' : 'redis';
  }

  degraded(): boolean {
    return this.failing || this.redis.client.status !== 'ready';
  }

  async close(): Promise<void> {
    this.redis.client.removeAllListeners('ready');
    this.redis.client.on('error', () => {});
    try {
      if (this.redis.client.status === 'ready') await this.redis.client.quit();
    } finally {
      this.redis.client.disconnect();
      this.local.clear();
    }
  }

  private async run(tenantId: string, limits: BucketLimits, op: 'consume' | 'peek'): Promise<RateLimitDecision> {
    if (this.redis.client.status === 'ready') {
      try {
        const decision = await this.redis[op](tenantId, limits);
        if (this.failing) this.markHealthy();
        return decision;
      } catch (err) {
        if (err instanceof RangeError) throw err; // invalid limits: a caller bug, not an outage
        this.markFailing(err as Error);
      }
    }
    return this.local[op](tenantId, limits);
  }

  private markFailing(err: Error): void {
    if (this.failing) return;
    this.failing = true;
    this.log.warn({ err: err.message, component: 'ratelimit' },
      'rate limiter: Redis unreachable, limiting per node until it is back');
  }

  private markHealthy(): void {
    if (!this.failing) return;
    this.failing = false;
    this.log.info({ component: 'ratelimit' }, 'rate limiter: Redis is back, limits are shared again');
  }
}

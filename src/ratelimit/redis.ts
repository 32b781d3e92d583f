/**
 * Redis-shared token buckets: one key per tenant holding its tat (see bucket.ts), updated by
 * one Lua script so concurrent nodes never race. The clock is Redis's own (TIME), so nodes
 * with skewed clocks still share one bucket; tests may pass `now` to pin the clock.
 */
import { Redis } from 'ioredis';
import { type BucketDecision, type BucketLimits, assertLimits, decide, intervalMs, rejected } from './bucket.ts';

// KEYS[1] bucket key; ARGV: interval ms, burst, cost (1 consume / 0 peek), now ms or ''.
// Returns {allowed 0|1, ahead ms, wait ms} with ms as fixed-point strings (Lua numbers would be
// truncated to integers on the way out).
const SCRIPT = `
local now
if ARGV[4] ~= '' then
  now = tonumber(ARGV[4])
else
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
end
local interval = tonumber(ARGV[1])
local capacity = tonumber(ARGV[2]) * interval
local cost = tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0') or 0
local base = now
if tat > now then base = tat end
local nxt = base + cost * interval
local ahead = nxt - now
if cost > 0 and ahead > capacity + 0.001 then
  return {0, string.format('%.3f', base - now), string.format('%.3f', ahead - capacity)}
end
if cost > 0 then
  redis.call('SET', KEYS[1], string.format('%.3f', nxt), 'PX', math.ceil(ahead) + 1000)
end
return {1, string.format('%.3f', ahead), '0'}
`;

type ScriptReply = [number, string, string];

interface BucketRedis extends Redis {
  tokenBucket(key: string, interval: string, burst: string, cost: string, now: string): Promise<ScriptReply>;
}

export interface RedisBucketsOptions {
  url: string;
  prefix: string;
  /** per-command timeout; a slower Redis counts as unreachable (default 250 ms) */
  commandTimeoutMs?: number;
  /** pin the clock (tests); default: Redis server time */
  now?: () => number;
}

export class RedisBuckets {
  readonly client: BucketRedis;

  constructor(private readonly opts: RedisBucketsOptions) {
    this.client = new Redis(opts.url, {
      // fail fast instead of queueing while disconnected: the caller falls back to local limits
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: opts.commandTimeoutMs ?? 250,
      connectTimeout: 2000,
      retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
      lazyConnect: true,
    }) as BucketRedis;
    this.client.defineCommand('tokenBucket', { numberOfKeys: 1, lua: SCRIPT });
  }

  key(tenantId: string): string {
    return `${this.opts.prefix}rl:${tenantId}`;
  }

  async consume(tenantId: string, limits: BucketLimits): Promise<BucketDecision> {
    return this.apply(tenantId, limits, 1);
  }

  async peek(tenantId: string, limits: BucketLimits): Promise<BucketDecision> {
    return this.apply(tenantId, limits, 0);
  }

  private async apply(tenantId: string, limits: BucketLimits, cost: number): Promise<BucketDecision> {
    assertLimits(limits);
    const now = this.opts.now ? String(this.opts.now()) : '';
    const [allowed, ahead, wait] = await this.client.tokenBucket(
      this.key(tenantId), String(intervalMs(limits)), String(limits.burst), String(cost), now);
    return allowed === 1 ? decide(Number(ahead), limits) : rejected(Number(ahead), Number(wait), limits);
  }
}

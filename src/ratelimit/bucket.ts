/**
 * Token bucket arithmetic shared by the in-memory and the Redis limiter.
 *
 * Semantics (this is what the OpenAPI contract promises):
 *   - a bucket holds at most `burst` tokens and starts full;
 *   - it refills continuously at `rate` tokens per second (not in steps, not per window);
 *   - every counted request takes one token; a request that finds less than one token is
 *     rejected and takes nothing.
 * So over any interval of length t a tenant gets at most `burst + rate * t` requests, and a
 * tenant offering more than `rate` for a long time is accepted at exactly `rate`.
 *
 * Representation: GCRA ("virtual scheduling"). Instead of (tokens, last_refill) we keep one
 * number, the theoretical arrival time `tat` (epoch ms). With emission interval T = 1000/rate:
 *   tokens(now) = burst - max(0, tat - now) / T
 * which is exactly the continuous-refill bucket above, but needs a single value per tenant:
 * one Redis key, one atomic script, no read-modify-write race.
 *
 * rate-limiter-flexible (v8) has no token bucket: RateLimiterMemory/RateLimiterRedis are fixed
 * windows and BurstyRateLimiter is two fixed windows chained, which lets 2× the rate through at
 * window edges and refills in steps — not what the contract promises. Hence this module.
 */

export interface BucketLimits {
  /** sustained refill, tokens per second (> 0) */
  rate: number;
  /** bucket capacity, the largest burst (>= 1) */
  burst: number;
}

export interface BucketDecision {
  allowed: boolean;
  /** sustained rate, requests per second (X-RateLimit-Limit; the contract's `limit`) */
  limit: number;
  /** whole tokens left after this request */
  remaining: number;
  /** ms until the bucket is full again */
  resetMs: number;
  /** 0 when allowed; otherwise ms until one token is available */
  retryAfterMs: number;
  /** RateLimit-Policy item describing the bucket, e.g. `"tenant";q=100;w=1;burst=100` */
  policy: string;
}

/** Float slack (ms) for comparisons of epoch-ms doubles (ulp at 1.7e12 is ~0.0002 ms). */
export const EPSILON_MS = 0.001;

export function assertLimits(limits: BucketLimits): void {
  if (!(Number.isFinite(limits.rate) && limits.rate > 0)) {
    throw new RangeError(`rate limit: rate must be a positive number, got ${limits.rate}`);
  }
  if (!(Number.isInteger(limits.burst) && limits.burst >= 1)) {
    throw new RangeError(`rate limit: burst must be an integer >= 1, got ${limits.burst}`);
  }
}

/** Emission interval: ms between two tokens. */
export function intervalMs(limits: BucketLimits): number {
  return 1000 / limits.rate;
}

const policies = new Map<string, string>();

export function policyItem(limits: BucketLimits, name = 'tenant'): string {
  const key = `${name}/${limits.rate}/${limits.burst}`;
  let item = policies.get(key);
  if (item === undefined) {
    item = `"${name}";q=${formatNumber(limits.rate)};w=1;burst=${limits.burst}`;
    if (policies.size >= 1000) policies.clear(); // a handful of distinct limits in practice
    policies.set(key, item);
  }
  return item;
}

/** Result of one step: the new tat to store (null = unchanged) and the decision. */
export interface BucketStep {
  tat: number | null;
  decision: BucketDecision;
}

/**
 * Applies `cost` tokens (1 = consume, 0 = peek) to a bucket whose stored tat is `storedTat`
 * (0 when the tenant has no state: a full bucket).
 */
export function step(storedTat: number, now: number, limits: BucketLimits, cost: number): BucketStep {
  const t = intervalMs(limits);
  const capacity = limits.burst * t;
  const base = storedTat > now ? storedTat : now;
  const next = base + cost * t;
  const ahead = next - now; // how far the bucket is "in debt", in ms
  if (cost > 0 && ahead > capacity + EPSILON_MS) {
    return { tat: null, decision: rejected(base - now, ahead - capacity, limits) };
  }
  return { tat: cost > 0 ? next : null, decision: decide(ahead, limits) };
}

/** Decision for an accepted request (or a peek) given how far ahead tat is after it. */
export function decide(aheadMs: number, limits: BucketLimits): BucketDecision {
  const t = intervalMs(limits);
  const remaining = Math.max(0, Math.floor(limits.burst - aheadMs / t + EPSILON_MS / t));
  return {
    allowed: true,
    limit: limits.rate,
    remaining,
    resetMs: Math.max(0, Math.ceil(aheadMs - EPSILON_MS)),
    retryAfterMs: 0,
    policy: policyItem(limits),
  };
}

/** Decision for a rejected request; `waitMs` = time until one token is available. */
export function rejected(aheadMs: number, waitMs: number, limits: BucketLimits): BucketDecision {
  return {
    allowed: false,
    limit: limits.rate,
    remaining: 0,
    resetMs: Math.max(0, Math.ceil(aheadMs - EPSILON_MS)),
    // ceil to whole ms, at least 1: waiting this long always finds a token
    retryAfterMs: Math.max(1, Math.ceil(waitMs - EPSILON_MS)),
    policy: policyItem(limits),
  };
}

function formatNumber(n: number): string {
  return Number.isInteger(n) ? String(n) : String(Math.round(n * 1000) / 1000);
}

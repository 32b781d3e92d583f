/**
 * Rate-limit response fields.
 *
 * IETF draft-ietf-httpapi-ratelimit-headers (-08 … -10: structured fields, one policy list and
 * one state list):
 *   RateLimit-Policy: "tenant";q=100;w=1;burst=100
 *     q = sustained quota per window w (seconds): the refill rate, requests per second.
 *     burst = bucket capacity (our extension parameter; unknown parameters are ignored by
 *     clients that do not know them).
 *   RateLimit: "tenant";r=57;t=1
 *     r = requests that may be sent right now (whole tokens in the bucket),
 *     t = seconds until the bucket is full again (0 when full).
 * Familiar legacy fields, same numbers:
 *   X-RateLimit-Limit = the sustained rate per second (q), as the OpenAPI contract states,
 *   X-RateLimit-Remaining = r, X-RateLimit-Reset = t (delta seconds, not an epoch).
 * On 429: Retry-After = ceil(seconds until one token is back), at least 1; a client that waits
 * that long finds a token unless its own tenant spent it meanwhile.
 */
import type { BucketDecision } from './bucket.ts';

export const POLICY_NAME = 'tenant';

export function rateLimitHeaders(d: BucketDecision): Record<string, string> {
  const resetSeconds = String(Math.ceil(d.resetMs / 1000));
  return {
    'RateLimit-Policy': d.policy,
    RateLimit: `"${POLICY_NAME}";r=${d.remaining};t=${resetSeconds}`,
    'X-RateLimit-Limit': String(d.limit),
    'X-RateLimit-Remaining': String(d.remaining),
    'X-RateLimit-Reset': resetSeconds,
  };
}

/** Retry-After in whole seconds (HTTP allows no fractions), rounded up so waiting suffices. */
export function retryAfterSeconds(d: BucketDecision): number {
  return Math.max(1, Math.ceil(d.retryAfterMs / 1000));
}

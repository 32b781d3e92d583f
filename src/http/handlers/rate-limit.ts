/** GET /v1/rate-limit: the calling tenant's bucket, not counted against it. */
import type { RateLimitState } from '../../domain/wire.ts';
import { callerOf, ok, type HttpDeps, type OperationMap } from '../operation.ts';

export function rateLimitHandlers({ limiter, config }: HttpDeps): OperationMap {
  return {
    getRateLimit: async (req) => {
      callerOf(req);
      const settings = req.auth.tenant!.settings;
      const limits = { rate: settings.rate_limit_per_second ?? config.rateLimitPerSecond, burst: settings.rate_limit_burst ?? config.rateLimitBurst };
      if (!limiter) {
        const data: RateLimitState = { limit: limits.rate, burst: limits.burst, remaining: limits.burst, reset_seconds: 0, policy: 'none' };
        return ok(data);
      }
      const s = await limiter.state(req.auth.tenant!.id, limits);
      const data: RateLimitState = {
        limit: limits.rate,
        burst: limits.burst,
        remaining: Math.max(0, Math.floor(s.remaining)),
        reset_seconds: Math.round(s.resetMs) / 1000,
        policy: s.policy,
        degraded: limiter.degraded(),
      };
      return ok(data);
    },
  };
}

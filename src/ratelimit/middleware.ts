/**
 * Koa middleware: counts each request against its tenant's bucket, before body parsing and
 * before any handler or database work, and answers 429 itself when the bucket is empty.
 *
 * Mount it after request-id/error-envelope middleware and before the body parser and
 * openapi-backend. `resolveTenant` maps credentials to a tenant (null = unauthenticated or
 * wrong credentials: not counted against anyone, so a wrong key cannot drain a real tenant).
 */
import { randomUUID } from 'node:crypto';
import type { Context, Middleware, Next } from 'koa';
import type { BucketLimits } from './bucket.ts';
import { rateLimitHeaders, retryAfterSeconds } from './headers.ts';
import type { RateLimitDecision, TenantLimiter } from './index.ts';

export interface ResolvedTenant {
  tenantId: string;
  limits: BucketLimits;
}

export type ResolveTenant = (ctx: Context) => ResolvedTenant | null | Promise<ResolvedTenant | null>;

/** What the middleware leaves in `ctx.state.rateLimit` (GET /v1/rate-limit can answer from it). */
export interface RateLimitState extends ResolvedTenant {
  decision: RateLimitDecision;
}

export interface RateLimitMiddlewareOptions {
  /** request id for the error envelope; default ctx.state.requestId, X-Request-Id, or a uuid */
  requestId?: (ctx: Context) => string;
  /**
   * Requests to answer with the tenant's state but without taking a token (e.g. GET
   * /v1/rate-limit, if the contract exempts it). They still get the headers.
   */
  exempt?: (ctx: Context) => boolean;
  /** called once per rejected request (metrics) */
  onReject?: (ctx: Context, state: RateLimitState) => void;
}

export function rateLimitMiddleware(
  limiter: TenantLimiter,
  resolveTenant: ResolveTenant,
  opts: RateLimitMiddlewareOptions = {},
): Middleware {
  const requestId = opts.requestId ?? defaultRequestId;
  return async function rateLimit(ctx: Context, next: Next) {
    const tenant = await resolveTenant(ctx);
    if (!tenant) return next();
    const decision = opts.exempt?.(ctx)
      ? await limiter.state(tenant.tenantId, tenant.limits)
      : await limiter.consume(tenant.tenantId, tenant.limits);
    const state: RateLimitState = { ...tenant, decision };
    ctx.state.rateLimit = state;
    ctx.set(rateLimitHeaders(decision));
    if (decision.allowed) return next();
    const retryAfter = retryAfterSeconds(decision);
    ctx.set('Retry-After', String(retryAfter));
    ctx.status = 429;
    ctx.body = {
      success: false,
      data: null,
      error: {
        code: 'RATE_LIMIT_EXCEEDED',
        message: `Rate limit exceeded: ${tenant.limits.rate} requests/s with bursts of ` +
          `${tenant.limits.burst}; retry after ${retryAfter} s`,
        details: [],
        request_id: requestId(ctx),
      },
    };
    opts.onReject?.(ctx, state);
  };
}

function defaultRequestId(ctx: Context): string {
  const fromState = ctx.state.requestId;
  if (typeof fromState === 'string' && fromState) return fromState;
  return ctx.get('X-Request-Id') || randomUUID();
}

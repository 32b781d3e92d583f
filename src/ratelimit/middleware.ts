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

  // Not `async`: with a synchronous resolver and the in-memory limiter (single node) a counted
  // request costs no promise and no extra tick; the Redis path awaits as usual.
  function decide(ctx: Context, tenant: ResolvedTenant): RateLimitDecision | Promise<RateLimitDecision> {
    if (opts.exempt?.(ctx)) return limiter.state(tenant.tenantId, tenant.limits);
    return limiter.consumeNow?.(tenant.tenantId, tenant.limits) ?? limiter.consume(tenant.tenantId, tenant.limits);
  }

  function apply(ctx: Context, next: Next, tenant: ResolvedTenant, decision: RateLimitDecision): Promise<void> | void {
    const state: RateLimitState = { tenantId: tenant.tenantId, limits: tenant.limits, decision };
    ctx.state.rateLimit = state;
    // straight to node (Koa's ctx.set adds a wrapper per header; nothing is sent yet here)
    const headers = rateLimitHeaders(decision);
    for (const name in headers) ctx.res.setHeader(name, headers[name]);
    if (decision.allowed) return next();
    reject(ctx, state);
  }

  function reject(ctx: Context, state: RateLimitState): void {
    const retryAfter = retryAfterSeconds(state.decision);
    ctx.set('Retry-After', String(retryAfter));
    ctx.status = 429;
    ctx.body = {
      success: false,
      data: null,
      error: {
        code: 'RATE_LIMIT_EXCEEDED',
        message: `Rate limit exceeded: ${state.limits.rate} requests/s with bursts of ` +
          `${state.limits.burst}; retry after ${retryAfter} s`,
        details: [],
        request_id: requestId(ctx),
      },
    };
    opts.onReject?.(ctx, state);
  }

  function withTenant(ctx: Context, next: Next, tenant: ResolvedTenant | null): Promise<void> | void {
    if (!tenant) return next();
    const decision = decide(ctx, tenant);
    if (decision instanceof Promise) return decision.then((d) => apply(ctx, next, tenant, d));
    return apply(ctx, next, tenant, decision);
  }

  return function rateLimit(ctx: Context, next: Next): Promise<void> {
    try {
      const tenant = resolveTenant(ctx);
      const result = tenant instanceof Promise
        ? tenant.then((t) => withTenant(ctx, next, t))
        : withTenant(ctx, next, tenant);
      return result instanceof Promise ? result : Promise.resolve(result);
    } catch (err) {
      return Promise.reject(err);
    }
  };
}

function defaultRequestId(ctx: Context): string {
  const fromState = ctx.state.requestId;
  if (typeof fromState === 'string' && fromState) return fromState;
  return ctx.get('X-Request-Id') || randomUUID();
}

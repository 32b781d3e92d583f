/**
 * Records every REST request (by operationId, which openapi-backend resolves) and serves
 * GET /metrics in the Prometheus text format. Mounted outermost so 401s, 413s and 429s count too.
 */
import type { Context, Middleware, Next } from 'koa';
import type { Metrics } from '../metrics.ts';

/** Names the operation a path belongs to when the request stopped before routing (401, 413, 429). */
export type OperationOf = (method: string, path: string) => string | undefined;

export function metricsMiddleware(metrics: Metrics, operationOf: OperationOf): Middleware {
  return async function recordMetrics(ctx: Context, next: Next) {
    if (ctx.path === '/metrics' && (ctx.method === 'GET' || ctx.method === 'HEAD')) {
      ctx.type = metrics.registry.contentType;
      ctx.body = await metrics.registry.metrics();
      return;
    }
    const started = performance.now();
    try {
      await next();
    } finally {
      const operation: string = ctx.state.operationId ?? operationOf(ctx.method, ctx.path) ?? 'unrouted';
      metrics.httpRequests.inc({ operation, status: String(ctx.status) });
      metrics.httpDuration.observe({ operation }, (performance.now() - started) / 1000);
      if (ctx.status === 429) metrics.rateLimited.inc({ transport: 'http' });
    }
  };
}

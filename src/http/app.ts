/**
 * The Koa app, in the order a request travels (design.md § How data flows):
 * request id + envelope on failure → docs and spec files → credentials → CORS → tenant rate limit
 * (before the body is read, so a flooding tenant costs little) → JSON body (size-limited) →
 * openapi-backend (route, security, validation) → handler.
 */
import Koa from 'koa';
import bodyParser from 'koa-bodyparser';
import type { OpenAPIBackend } from 'openapi-backend';
import type { Middleware } from 'koa';
import { requestContext } from './request-context.ts';
import { authMiddleware } from './auth.ts';
import { CredentialCache } from './credential-cache.ts';
import { createApi, operationOf } from './api.ts';
import { metricsMiddleware } from './metrics.ts';
import type { Metrics } from '../metrics.ts';
import { docsMiddleware } from './docs.ts';
import { corsMiddleware } from './cors.ts';
import { webMiddleware } from '../web/routes.ts';
import type { HttpDeps } from './operation.ts';
import type { Bus } from '../bus/index.ts';

const BODYLESS = new Set(['GET', 'HEAD', 'DELETE', 'OPTIONS']);

export interface HttpAppOptions extends HttpDeps {
  /** Revocation signals (credentials.revoked, user.updated) from every node clear the credential cache. */
  bus?: Pick<Bus, 'subscribe'>;
  /** The tenant rate limit (src/ratelimit); absent in tests that do not exercise it. */
  rateLimit?: Middleware;
  /** Prometheus metrics; when given, requests are recorded and GET /metrics serves them. */
  metrics?: Metrics;
  /** The WebSocket node's port, for the browser pages (default: config.wsPort). */
  wsPort?: number;
}

export async function createHttpApp(opts: HttpAppOptions): Promise<{ app: Koa; api: OpenAPIBackend }> {
  const { config, domain, log } = opts;
  const api = await createApi(opts);
  const app = new Koa({ proxy: false });
  app.silent = true; // errors are logged by requestContext with their request id
  if (opts.metrics) app.use(metricsMiddleware(opts.metrics, operationOf(api)));
  app.use(requestContext(log, config.bodyLimitBytes));
  app.use(docsMiddleware());
  app.use(webMiddleware({ wsPort: opts.wsPort ?? config.wsPort }));
  const credentials = new CredentialCache(config.authCacheMs);
  opts.bus?.subscribe((evt) => {
    if (evt.type === 'credentials.revoked' || evt.type === 'user.updated') credentials.invalidate();
  });
  app.use(authMiddleware(domain, config.masterKey, credentials));
  app.use(corsMiddleware()); // after auth (the tenant's origin list), before the rate limit
  if (opts.rateLimit) app.use(opts.rateLimit);
  // A body on GET, HEAD or DELETE is not part of any operation: ignored (never parsed, never a 413).
  const parseBody = bodyParser({
    enableTypes: ['json'],
    jsonLimit: `${config.bodyLimitBytes}b`,
    strict: true,
    // Reject non-JSON bodies instead of silently ignoring them.
    detectJSON: () => true,
  });
  app.use((ctx, next) => (BODYLESS.has(ctx.method) ? next() : parseBody(ctx, next)));
  app.use(async (ctx) => {
    await api.handleRequest(
      {
        method: ctx.method,
        path: ctx.path,
        query: ctx.query as Record<string, string | string[]>,
        headers: ctx.headers as Record<string, string | string[]>,
        body: (ctx.request as { body?: unknown }).body,
      },
      ctx,
    );
  });
  return { app, api };
}

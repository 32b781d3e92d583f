/**
 * CORS for browser callers (@koa/cors), driven by each tenant's allowed_origins (the same list the
 * WebSocket and publishable keys obey). Runs after credential resolution (auth.ts never rejects),
 * so the tenant is known for actual requests:
 *  - preflights carry no credentials by design: they are answered for any Origin, and only name
 *    the headers a browser may send (never X-API-Key or X-Master-Key, which stay on servers);
 *  - an actual request gets Access-Control-Allow-Origin only when its tenant lists the Origin (or
 *    lists none); a response that names no tenant (a refusal, /health) may be read by any page,
 *    so a browser can see why it was refused. Operator (master key) responses are never shared.
 */
import cors from '@koa/cors';
import type { Context, Middleware } from 'koa';
import { originListed } from '../domain/origins.ts';
import type { AuthState } from './auth.ts';

export const CORS_ALLOW_HEADERS = ['Authorization', 'Content-Type', 'Idempotency-Key', 'X-Publishable-Key', 'X-Request-Id'];
const EXPOSE = ['X-Request-Id', 'Retry-After', 'RateLimit', 'RateLimit-Policy', 'X-RateLimit-Limit', 'X-RateLimit-Remaining', 'X-RateLimit-Reset'];

export function allowedOrigin(ctx: Context): string {
  const origin = ctx.get('Origin');
  if (!origin) return '';
  if (ctx.method === 'OPTIONS') return origin;
  const auth = (ctx.state.auth ?? {}) as AuthState;
  if (auth.master) return '';
  if (!auth.tenant) return origin;
  return originListed(auth.tenant, origin) ? origin : '';
}

export function corsMiddleware(): Middleware {
  return cors({
    origin: allowedOrigin,
    allowMethods: ['GET', 'HEAD', 'POST', 'PATCH', 'DELETE'],
    allowHeaders: CORS_ALLOW_HEADERS,
    exposeHeaders: EXPOSE,
    maxAge: 600,
    credentials: false,
  });
}

/**
 * The upgrade request: credentials (Bearer, X-API-Key + X-User-Id, or `?ticket=`), then the
 * tenant's Origin allow-list, all before the upgrade. A refused Origin gets HTTP 403 and no
 * WebSocket. Bad credentials still upgrade and then close with 4003, because a browser cannot read
 * the status of a failed upgrade but can read a close code. No credentials: the socket opens and
 * waits for an `auth` frame.
 */
import { randomUUID } from 'node:crypto';
import type { HttpRequest, HttpResponse, us_socket_context_t } from 'uWebSockets.js';
import { isDomainError } from '../domain/errors.ts';
import type { TenantRecord } from '../domain/index.ts';
import type { WsContext } from './context.ts';
import type { ConnData, UpgradeResult } from './conn.ts';
import { acceptOf, trace, tracing, uwsCallback, whereNow } from './trace.ts';

interface Presented {
  authorization: string;
  apiKey: string;
  userId: string;
  ticket: string;
  origin: string;
}

/** Browsers always send Origin; clients without one (servers, apps) are not subject to the list. */
export function originAllowed(tenant: TenantRecord, origin: string | undefined): boolean {
  const allowed = tenant.settings.allowed_origins;
  if (!allowed.length || !origin) return true;
  const normal = origin.replace(/\/+$/, '').toLowerCase();
  return allowed.some((o) => o.replace(/\/+$/, '').toLowerCase() === normal);
}

export function upgradeHandler(ctx: WsContext) {
  return (res: HttpResponse, req: HttpRequest, context: us_socket_context_t): void => {
    // Everything from req must be read now: it is invalid after the first await.
    const presented: Presented = {
      authorization: req.getHeader('authorization'),
      apiKey: req.getHeader('x-api-key'),
      userId: req.getHeader('x-user-id'),
      ticket: req.getQuery('ticket') ?? '',
      origin: req.getHeader('origin'),
    };
    const key = req.getHeader('sec-websocket-key');
    // Traces name a socket by its Sec-WebSocket-Accept, which the client sees too.
    const name = tracing ? acceptOf(key) : '';
    const protocol = req.getHeader('sec-websocket-protocol').split(',')[0]!.trim();
    const extensions = req.getHeader('sec-websocket-extensions');
    let aborted = false;
    res.onAborted(() => {
      aborted = true;
      trace('server', 'upgrade-aborted', { key: name });
    });
    trace('server', 'upgrade-request', { key: name });
    if (ctx.draining) return void reply(res, '503 Service Unavailable', 'SERVICE_UNAVAILABLE', 'The server is shutting down');
    resolve(ctx, presented).then(
      (result) => {
        if (tracing) trace('server', 'upgrade-resolved', { key: name, kind: result.kind, aborted, ...whereNow() });
        if (aborted) return;
        if (result.kind === 'authenticated' && !originAllowed(result.tenant, presented.origin)) {
          return void res.cork(() => reply(res, '403 Forbidden', 'AUTHORIZATION_ERROR', 'Origin not allowed for this tenant'));
        }
        const data: ConnData = { upgrade: result, key: name };
        uwsCallback.upgrading = name;
        res.cork(() => res.upgrade(data, key, protocol, extensions, context));
        uwsCallback.upgrading = '';
        if (tracing) trace('server', 'upgraded', { key: name });
      },
      (err: unknown) => {
        ctx.log.error({ err }, 'ws: upgrade failed');
        if (!aborted) res.cork(() => reply(res, '503 Service Unavailable', 'SERVICE_UNAVAILABLE', 'Try again shortly'));
      },
    );
  };
}

async function resolve(ctx: WsContext, p: Presented): Promise<UpgradeResult> {
  const origin = p.origin || undefined;
  const refused = (reason: string): UpgradeResult => ({ kind: 'refused', reason });
  if (p.ticket) {
    const grant = await ctx.tickets?.redeem(p.ticket);
    if (!grant) return refused('Unknown, used or expired ticket');
    const tenant = await ctx.domain.tenants.get(grant.tenant_id).catch((err) => (isDomainError(err) ? null : Promise.reject(err)));
    const user = tenant && (await ctx.domain.users.resolve(tenant.id, grant.user_id));
    return tenant && user ? { kind: 'authenticated', tenant, user, via: grant.via, origin } : refused('The ticket\'s user no longer exists');
  }
  if (p.apiKey) {
    const tenant = await ctx.domain.tenants.authenticateKey(p.apiKey);
    if (!tenant) return refused('Invalid API key');
    if (!p.userId) return refused('X-User-Id is required with X-API-Key');
    const user = await ctx.domain.users.resolve(tenant.id, p.userId);
    return user ? { kind: 'authenticated', tenant, user, via: 'key', origin } : refused('X-User-Id names no user of this tenant');
  }
  if (p.authorization) {
    const m = /^Bearer\s+(\S+)$/i.exec(p.authorization);
    if (!m) return refused('Authorization must be "Bearer <token>"');
    try {
      const { tenant, user } = await ctx.domain.tokens.verify(m[1]!);
      return { kind: 'authenticated', tenant, user, via: 'token', origin };
    } catch (err) {
      if (isDomainError(err)) return refused(err.message);
      throw err;
    }
  }
  return { kind: 'anonymous', origin };
}

function reply(res: HttpResponse, status: string, code: string, message: string): void {
  res
    .writeStatus(status)
    .writeHeader('Content-Type', 'application/json')
    .end(JSON.stringify({ success: false, data: null, error: { code, message, details: [], request_id: randomUUID() } }));
}

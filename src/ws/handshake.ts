/**
 * The upgrade request. A draining node refuses it over HTTP (503); otherwise the socket is
 * upgraded at once, inside uWS's upgrade handler, and what it presented (Bearer, X-API-Key +
 * X-User-Id, or `?ticket=`) is resolved after `open` (session.ts authenticateUpgrade): bad
 * credentials close with 4003, an Origin outside the tenant's allow-list with 4009, a failure
 * with 1011. No credentials: the socket waits for an `auth` frame.
 *
 * Why the upgrade never waits for the credentials: this uWS build (uWebSockets.js 20.30) offers
 * one quiet way to upgrade later, `res.cork(() => res.upgrade(...))`, and it is unsafe. After the
 * callback, HttpResponse::cork re-reads the HTTP response's state at the socket's address to honour
 * "Connection: close"; the upgrade has just shrunk the socket in place to a WebSocket, so that
 * state lies in freed heap memory. When something has reused that memory with the close bit set,
 * uWS shuts the brand-new WebSocket down without a close frame: the client sees 1006 right after
 * the 101 (rarely; more often under load). Calling `res.upgrade` without `res.cork` avoids that
 * but makes uWS.js print a warning per connection. Upgrading inside the upgrade handler, where uWS
 * has corked the socket itself and knows it upgraded, is the path uWS handles.
 */
import { randomUUID } from 'node:crypto';
import type { HttpRequest, HttpResponse, us_socket_context_t } from 'uWebSockets.js';
import { isDomainError } from '../domain/errors.ts';
import type { WsContext } from './context.ts';
import type { ConnData, UpgradeResult } from './conn.ts';
import { acceptOf, trace, tracing, uwsCallback } from './trace.ts';

/** What the upgrade request presented, read before uWS recycles the request. */
export interface Presented {
  authorization: string;
  apiKey: string;
  userId: string;
  ticket: string;
  origin: string;
  /** `?embed_origin=`: the origin of the page embedding chatapi's widget (src/web/embed), checked like Origin. */
  embedOrigin: string;
  /** The client's address: refused credentials count against it (AUTH_FAILURES_PER_IP, as on REST). */
  ip: string;
}

export { originAllowed } from '../domain/origins.ts';

export function upgradeHandler(ctx: WsContext) {
  return (res: HttpResponse, req: HttpRequest, context: us_socket_context_t): void => {
    const presented: Presented = {
      authorization: req.getHeader('authorization'),
      apiKey: req.getHeader('x-api-key'),
      userId: req.getHeader('x-user-id'),
      ticket: req.getQuery('ticket') ?? '',
      origin: req.getHeader('origin'),
      embedOrigin: req.getQuery('embed_origin') ?? '',
      ip: clientIp(res),
    };
    const key = req.getHeader('sec-websocket-key');
    // Traces name a socket by its Sec-WebSocket-Accept, which the client sees too.
    const name = tracing ? acceptOf(key) : '';
    const protocol = req.getHeader('sec-websocket-protocol').split(',')[0]!.trim();
    const extensions = req.getHeader('sec-websocket-extensions');
    trace('server', 'upgrade-request', { key: name });
    if (ctx.draining) return void reply(res, '503 Service Unavailable', 'SERVICE_UNAVAILABLE', 'The server is shutting down');
    const data: ConnData = { presented, key: name };
    uwsCallback.upgrading = name;
    res.upgrade(data, key, protocol, extensions, context); // now, never later: see the top of this file
    uwsCallback.upgrading = '';
  };
}

/** What the presented credentials amount to (a ticket is used up here). Throws when a dependency fails. */
export async function resolveCredentials(ctx: WsContext, p: Presented): Promise<UpgradeResult> {
  if (p.ticket) {
    const grant = await ctx.tickets?.redeem(p.ticket);
    if (!grant) return refused('Unknown, used or expired ticket');
    const tenant = await ctx.domain.tenants.get(grant.tenant_id).catch((err) => (isDomainError(err) ? null : Promise.reject(err)));
    const user = tenant && (await ctx.domain.users.resolve(tenant.id, grant.user_id));
    const cred = { tokenId: grant.token_id, expiresAt: grant.expires_at, roomId: grant.room_id, apiKey: grant.via === 'key' };
    return tenant && user ? { kind: 'authenticated', tenant, user, via: grant.via, cred } : refused('The ticket\'s user no longer exists');
  }
  if (p.apiKey) {
    const tenant = await ctx.domain.tenants.authenticateKey(p.apiKey);
    if (!tenant) return refused('Invalid API key');
    if (!p.userId) return refused('X-User-Id is required with X-API-Key');
    const user = await ctx.domain.users.resolve(tenant.id, p.userId);
    return user ? { kind: 'authenticated', tenant, user, via: 'key', cred: { apiKey: true } } : refused('X-User-Id names no user of this tenant');
  }
  if (p.authorization) {
    const m = /^Bearer\s+(\S+)$/i.exec(p.authorization);
    if (!m) return refused('Authorization must be "Bearer <token>"');
    try {
      const { tenant, user, tokenId, expiresAt, roomId } = await ctx.domain.tokens.verify(m[1]!);
      return { kind: 'authenticated', tenant, user, via: 'token', cred: { tokenId, expiresAt, roomId } };
    } catch (err) {
      if (isDomainError(err)) return refused(err.message);
      throw err;
    }
  }
  return { kind: 'anonymous' };
}

/** (A module-level function: a named closure made per connect costs a defineProperty under tsx, load/bench/keep-names.ts.) */
function refused(reason: string): UpgradeResult {
  return { kind: 'refused', reason };
}

/** As Koa's ctx.ip gives it: dotted IPv4 (also for IPv4-mapped IPv6), else IPv6 text. */
function clientIp(res: HttpResponse): string {
  // The raw address (16 bytes for IPv6, IPv4 as ::ffff:a.b.c.d; 4 for IPv4): dotted without
  // formatting and parsing a text form, which cost ~10 µs per connect.
  const raw = new Uint8Array(res.getRemoteAddress());
  if (raw.length === 4) return `${raw[0]}.${raw[1]}.${raw[2]}.${raw[3]}`;
  if (raw.length === 16 && raw[10] === 0xff && raw[11] === 0xff && raw.subarray(0, 10).every((b) => b === 0)) {
    return `${raw[12]}.${raw[13]}.${raw[14]}.${raw[15]}`;
  }
  return Buffer.from(res.getRemoteAddressAsText()).toString() || 'unknown';
}

function reply(res: HttpResponse, status: string, code: string, message: string): void {
  res
    .writeStatus(status)
    .writeHeader('Content-Type', 'application/json')
    .end(JSON.stringify({ success: false, data: null, error: { code, message, details: [], request_id: randomUUID() } }));
}

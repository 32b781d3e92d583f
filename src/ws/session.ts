/**
 * Authentication and session start. Credentials come from the upgrade request (resolved here,
 * after `open`: see handshake.ts for why) or from a first `auth` frame; either way the session then loads the user's rooms, registers the
 * connection as pending in each (so live events are held from here on), reads the room heads
 * again (anything newer than that read arrives as a live event), and sends `connected`.
 */
import { isDomainError } from '../domain/errors.ts';
import { callerUser } from '../domain/permissions.ts';
import type { TenantRecord, UserCaller } from '../domain/index.ts';
import type { User } from '../domain/wire.ts';
import { CloseCode } from './close-codes.ts';
import type { WsContext } from './context.ts';
import { type Conn, type RoomSync, canRead, clearConnTimers, connTimer, isOpen, newRoomSync, roomKey, takeQueue } from './conn.ts';
import { enqueue, onText, resume } from './dispatch.ts';
import { type AuthFrame, encode } from './frames.ts';
import { type Presented, originAllowed, resolveCredentials } from './handshake.ts';
import { startSync } from './sync.ts';
import { expireWithToken } from './credentials.ts';
import { trace, tracing, whereNow } from './trace.ts';

/** The socket's own Origin and, for the embedded widget, its host page's origin. */
const originsAllowed = (tenant: TenantRecord, conn: { origin?: string; embedOrigin?: string }) =>
  originAllowed(tenant, conn.origin) && originAllowed(tenant, conn.embedOrigin);

/**
 * Right after `open`: resolve what the upgrade request presented. Frames that arrive meanwhile
 * queue (phase `connecting`) and are handled once the session is ready, or, with no credentials
 * on the upgrade, as the first frames of the `auth` phase.
 */
export async function authenticateUpgrade(ctx: WsContext, conn: Conn, presented: Presented): Promise<void> {
  conn.phase = 'connecting';
  let result: Awaited<ReturnType<typeof resolveCredentials>>;
  try {
    result = await resolveCredentials(ctx, presented);
  } catch (err) {
    ctx.log.error({ err, conn: conn.id }, 'ws: upgrade credentials could not be checked');
    return ctx.router.kick(conn, CloseCode.INTERNAL_ERROR);
  }
  if (tracing) trace('server', 'upgrade-resolved', { key: conn.key, conn: conn.id, kind: result.kind, open: isOpen(conn), ...whereNow() });
  if (!isOpen(conn)) return;
  switch (result.kind) {
    case 'refused':
      countRefusal(ctx, presented.ip);
      return ctx.router.kick(conn, CloseCode.BAD_CREDENTIALS);
    case 'authenticated':
      if (!originsAllowed(result.tenant, conn)) return ctx.router.kick(conn, CloseCode.ORIGIN_REFUSED);
      conn.cred = result.cred;
      return startSession(ctx, conn, result.tenant, result.user, result.via);
    case 'anonymous':
      conn.phase = 'auth';
      connTimer(conn, ctx.config.wsAuthTimeoutMs, () => {
        if (conn.phase === 'auth') ctx.router.kick(conn, CloseCode.AUTH_TIMEOUT);
      });
      for (const text of takeQueue(conn)) onText(ctx, conn, text); // an `auth` frame moves later ones back to the queue
  }
}

export async function authenticateFrame(ctx: WsContext, conn: Conn, frame: AuthFrame): Promise<void> {
  conn.phase = 'connecting'; // later frames queue until the session is ready
  let verified: { tenant: TenantRecord; user: User; tokenId: string; expiresAt: number; roomId?: string };
  try {
    verified = await ctx.domain.tokens.verify(frame.token);
  } catch (err) {
    if (!isDomainError(err)) ctx.log.error({ err, conn: conn.id }, 'ws: token verification failed');
    else countRefusal(ctx, conn.ip);
    return ctx.router.kick(conn, isDomainError(err) ? CloseCode.BAD_CREDENTIALS : CloseCode.INTERNAL_ERROR);
  }
  if (!isOpen(conn)) return;
  if (!originsAllowed(verified.tenant, conn)) return ctx.router.kick(conn, CloseCode.ORIGIN_REFUSED);
  conn.cred = { tokenId: verified.tokenId, expiresAt: verified.expiresAt, roomId: verified.roomId };
  await startSession(ctx, conn, verified.tenant, verified.user, 'token', frame.resume, frame.ref);
}

/** A refused credential counts against the address, as on REST; the refusal stays 4003 either way. */
function countRefusal(ctx: WsContext, ip: string | undefined): void {
  if (!ip) return;
  ctx.domain.authFailures.refused(ip).catch((err) => {
    if (!isDomainError(err)) ctx.log.warn({ err }, 'ws: refused credential not counted');
  });
}

export async function startSession(
  ctx: WsContext, conn: Conn, tenant: TenantRecord, user: User, via: UserCaller['via'],
  resumeRooms?: { room_id: string; last_seq: number }[], ref?: string,
): Promise<void> {
  clearConnTimers(conn); // the auth timeout
  conn.ip = undefined; // only refused credentials count against the address
  conn.phase = 'connecting';
  const roomId = conn.cred?.roomId;
  const me = callerUser(user); // the session keeps this, not the whole record (`connected` below carries that)
  Object.assign(conn, { tenant, user: me, caller: { kind: 'user', tenantId: tenant.id, user: me, via, ...(roomId ? { roomId } : {}) } satisfies UserCaller });
  let unread = 0;
  try {
    unread = await loadRooms(ctx, conn);
  } catch (err) {
    ctx.log.error({ err, conn: conn.id }, 'ws: session start failed');
    return ctx.router.kick(conn, CloseCode.INTERNAL_ERROR);
  }
  if (!isOpen(conn)) return;
  expireWithToken(ctx, conn);
  // A room-scoped session knows one room only; presence goes to all of the user's rooms, so those are read then.
  ctx.presence.connected({ tenant_id: tenant.id, user_id: user.id }, roomId === undefined ? [...conn.rooms.keys()] : undefined);
  conn.counted = true;
  conn.phase = ctx.draining ? 'draining' : 'ready';
  const rooms = [...conn.rooms].map(([room_id, sync]) => ({ room_id, last_seq: sync.head ?? 0 }));
  ctx.router.send(conn, encode({
    type: 'connected', connection_id: conn.id, user, rooms, max_payload_bytes: ctx.config.wsMaxPayloadBytes, resume_wait_ms: ctx.resumeWaitMs,
    unread_notifications: unread,
  }));
  conn.connectedSent = isOpen(conn);
  trace('server', 'connected-sent', { key: conn.key, conn: conn.id, user: user.id, open: isOpen(conn) });
  if (resumeRooms) resume(ctx, conn, resumeRooms, ref);
  for (const text of takeQueue(conn)) enqueue(ctx, conn, text);
  if (!conn.syncStarted) {
    connTimer(conn, ctx.resumeWaitMs, () => {
      if (!conn.syncStarted) startSync(ctx.sync, conn, new Map());
    });
  }
}

/** A room of the session, under the node's one string for its id (conn.ts roomKey); followed live if the user may read. */
function addRoom(ctx: WsContext, conn: Conn, id: string, sync: RoomSync, reads: boolean): void {
  const roomId = roomKey(id);
  conn.rooms.set(roomId, sync);
  if (reads) ctx.router.addPending(conn, roomId);
}

/**
 * Rooms and heads, read twice around the pending registration so no event can fall in between;
 * the unread notification count is read with the second (after the user's own topic is followed).
 * Returns that count.
 */
async function loadRooms(ctx: WsContext, conn: Conn): Promise<number> {
  const { tenant, user } = conn as Required<Pick<Conn, 'tenant' | 'user'>>;
  const first = inScope(conn, await ctx.reads.roomsOfUser(tenant.id, user.id));
  if (!isOpen(conn)) return 0;
  ctx.router.addUser(conn);
  const unread = ctx.reads.unreadCount(tenant.id, user.id);
  unread.catch(() => {}); // awaited below, after the rooms (whose failure is reported first)
  const reads = canRead(conn);
  for (const r of first) addRoom(ctx, conn, r.room_id, newRoomSync(r.delivered_seq), reads);
  const fresh = inScope(conn, await ctx.reads.roomsOfUser(tenant.id, user.id));
  if (!isOpen(conn)) return 0;
  const still = new Set(fresh.map((r) => r.room_id));
  for (const r of first) if (!still.has(r.room_id)) ctx.router.dropRoom(conn, r.room_id);
  for (const r of fresh) {
    let sync = conn.rooms.get(r.room_id);
    if (!sync) {
      sync = newRoomSync(r.delivered_seq);
      addRoom(ctx, conn, r.room_id, sync, reads);
    }
    if (sync.state === 'waiting') Object.assign(sync, { head: r.last_seq, delivered: r.delivered_seq });
  }
  return await unread;
}

/** A session opened with a room-scoped token follows that room only. */
function inScope<T extends { room_id: string }>(conn: Conn, rooms: T[]): T[] {
  const only = conn.cred?.roomId;
  return only === undefined ? rooms : rooms.filter((r) => r.room_id === only);
}

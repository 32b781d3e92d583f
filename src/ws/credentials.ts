/**
 * Sessions follow the credentials that opened them (issue 8): a `credentials.revoked` signal on
 * the bus ends every matching session on this node with 4010, a `user.updated` one updates the
 * user's sessions in place, and a session ends by itself when its token expires. Every node gets
 * the signal (Redis bus when scaled out) and checks its own connections.
 */
import type { CredentialScope } from '../domain/events.ts';
import { callerUser } from '../domain/permissions.ts';
import type { User } from '../domain/wire.ts';
import { CloseCode } from './close-codes.ts';
import { type Conn, canRead, connTimerAt } from './conn.ts';
import { syncRoom } from './sync.ts';
import type { WsContext } from './context.ts';

function matches(conn: Conn, tenantId: string, scope: CredentialScope): boolean {
  if (conn.tenant?.id !== tenantId) return false;
  switch (scope.kind) {
    case 'tenant': return true;
    case 'api_key': return conn.cred?.apiKey === true;
    case 'user': return conn.user?.id === scope.user_id;
    case 'tokens': return conn.cred?.tokenId !== undefined && scope.token_ids.includes(conn.cred.tokenId);
    case 'publishable_key': return false; // publishable keys only sign in; they never open a session
  }
}

export function endSessions(ctx: WsContext, tenantId: string, scope: CredentialScope): void {
  const candidates = scope.kind === 'user' ? ctx.router.localConns(tenantId, scope.user_id) : [...(ctx.conns ?? [])];
  for (const conn of candidates) if (matches(conn, tenantId, scope)) ctx.router.kick(conn, CloseCode.CREDENTIALS_REVOKED);
}

/** New role or permissions apply to the user's open sessions at once. */
export function updateSessions(ctx: WsContext, tenantId: string, user: User): void {
  const me = callerUser(user); // one copy for all of the user's sessions here
  for (const conn of ctx.router.localConns(tenantId, user.id)) {
    const couldRead = canRead(conn);
    conn.user = me;
    if (conn.caller) conn.caller = { ...conn.caller, user: me };
    if (couldRead !== canRead(conn)) followRooms(ctx, conn);
  }
}

/** `can_receive_message` changed: leave every room topic, or catch up (replay) and join them. */
function followRooms(ctx: WsContext, conn: Conn): void {
  const reads = canRead(conn);
  for (const roomId of conn.rooms.keys()) {
    if (!reads) {
      ctx.router.leaveTopic(conn, roomId);
      continue;
    }
    ctx.router.addPending(conn, roomId);
    if (conn.syncStarted) void syncRoom(ctx.sync, conn, roomId);
  }
}

/** Ends the session when the token it was opened with expires (one entry in the node's timer heap, conn-timers.ts). */
export function expireWithToken(ctx: WsContext, conn: Conn): void {
  const expiresAt = conn.cred?.expiresAt;
  if (expiresAt === undefined) return;
  if (expiresAt <= Date.now()) return ctx.router.kick(conn, CloseCode.CREDENTIALS_REVOKED);
  connTimerAt(conn, expiresAt, expiryOf(ctx));
}

/** One expiry callback per node, shared by its connections. */
const expiries = new WeakMap<WsContext, (conn: Conn) => void>();
function expiryOf(ctx: WsContext): (conn: Conn) => void {
  let expire = expiries.get(ctx);
  if (!expire) expiries.set(ctx, (expire = (conn) => ctx.router.kick(conn, CloseCode.CREDENTIALS_REVOKED)));
  return expire;
}

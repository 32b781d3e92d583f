/**
 * Bus events → frames. Each event is serialized once, here, and handed to the router, which
 * publishes the same bytes to the room's topic (uWS copies them to every subscriber natively).
 * Membership events also change which rooms this node's connections follow.
 */
import type { BusEvent } from '../bus/index.ts';
import type { WsContext } from './context.ts';
import { CloseCode } from './close-codes.ts';
import { canRead, newRoomSync } from './conn.ts';
import { encode, encodeMessageEvent } from './frames.ts';
import { payloadText } from '../store/outbox.ts';
import { syncRoom } from './sync.ts';
import { endSessions, updateSessions } from './credentials.ts';

export function onBusEvent(ctx: WsContext, evt: BusEvent): void {
  const { router } = ctx;
  switch (evt.type) {
    case 'message.created':
    case 'message.updated':
    case 'message.deleted': {
      if (!router.hasInterest(evt.tenant_id, evt.room_id)) return;
      // The outbox row of this event holds the same frame text ({ type, room_id, message }): reuse it.
      const text = payloadText(evt);
      const bytes = text !== undefined ? Buffer.from(text) : encodeMessageEvent(evt.type, evt.room_id, evt.message);
      router.route(evt.tenant_id, evt.room_id, bytes, evt.type === 'message.created' ? evt.message.seq : undefined);
      return;
    }
    case 'receipt': {
      if (!router.hasInterest(evt.tenant_id, evt.room_id)) return;
      const { type, room_id, user_id, delivered_seq, read_seq } = evt;
      router.route(evt.tenant_id, evt.room_id, encode({ type, room_id, user_id, delivered_seq, read_seq }));
      return;
    }
    case 'typing': {
      if (!router.hasInterest(evt.tenant_id, evt.room_id)) return;
      const { type, room_id, user_id, state } = evt;
      router.route(evt.tenant_id, evt.room_id, encode({ type, room_id, user_id, state }));
      return;
    }
    case 'presence':
      for (const roomId of evt.room_ids) ctx.presenceFanout.change(evt.tenant_id, roomId, evt.user_id, evt.status);
      return;
    case 'notification':
      return ctx.router.toUser(evt.tenant_id, evt.user_id, encode({ type: 'notification', notification: evt.notification }));
    case 'member.joined':
      return memberJoined(ctx, evt.tenant_id, evt.room_id, encode({ type: evt.type, room_id: evt.room_id, member: evt.member }), evt.member.user_id);
    case 'member.left':
      return roomGone(ctx, evt.tenant_id, evt.room_id, encode({ type: evt.type, room_id: evt.room_id, user_id: evt.user_id }), evt.user_id);
    case 'room.updated':
      if (!router.hasInterest(evt.tenant_id, evt.room_id)) return;
      router.route(evt.tenant_id, evt.room_id, encode({ type: evt.type, room_id: evt.room_id, room: evt.room }));
      return;
    case 'room.deleted':
      return roomGone(ctx, evt.tenant_id, evt.room_id, encode({ type: evt.type, room_id: evt.room_id }));
    case 'ticket.updated': {
      if (!router.hasInterest(evt.tenant_id, evt.room_id)) return;
      const { type, room_id, ticket, changed, by } = evt;
      router.route(evt.tenant_id, evt.room_id, encode({ type, room_id, ticket, changed, by }));
      return;
    }
    case 'member.banned':
    case 'member.muted': {
      if (!router.hasInterest(evt.tenant_id, evt.room_id)) return;
      const { type, room_id, user_id, until, by } = evt;
      router.route(evt.tenant_id, evt.room_id, encode({ type, room_id, user_id, until, by }));
      if (type === 'member.muted' && until !== null) for (const conn of router.localConns(evt.tenant_id, user_id)) ctx.typing.stopAll(conn, room_id);
      return;
    }
    case 'messages.purged': {
      if (!router.hasInterest(evt.tenant_id, evt.room_id)) return;
      const { type, room_id, seqs, user_id, deleted_at, by } = evt;
      router.route(evt.tenant_id, evt.room_id, encode({ type, room_id, seqs, ...(user_id ? { user_id } : {}), deleted_at, by }));
      return;
    }
    case 'user.banned':
      // Their sessions end at once, on every node (each node closes its own connections).
      for (const conn of router.localConns(evt.tenant_id, evt.user_id)) router.kick(conn, CloseCode.BANNED);
      return;
    case 'user.unbanned':
      return;
    case 'credentials.revoked':
      return endSessions(ctx, evt.tenant_id, evt.scope);
    case 'user.updated':
      return updateSessions(ctx, evt.tenant_id, evt.user);
  }
}

/** Tell the room, then start following it on the new member's connections here (replayed from 0). */
function memberJoined(ctx: WsContext, tenantId: string, roomId: string, bytes: Buffer, userId: string): void {
  if (ctx.router.hasInterest(tenantId, roomId)) ctx.router.route(tenantId, roomId, bytes);
  const conns = ctx.router.localConns(tenantId, userId)
    .filter((c) => !c.rooms.has(roomId) && (c.cred?.roomId === undefined || c.cred.roomId === roomId));
  if (!conns.length) return;
  ctx.router.toUser(tenantId, userId, bytes);
  for (const conn of conns) {
    conn.rooms.set(roomId, newRoomSync(0));
    if (!canRead(conn)) continue;
    ctx.router.addPending(conn, roomId);
    if (conn.syncStarted) void syncRoom(ctx.sync, conn, roomId, 0);
  }
}

/** Tell the room (the leaving member too), then stop following it where it is gone. */
function roomGone(ctx: WsContext, tenantId: string, roomId: string, bytes: Buffer, userId?: string): void {
  if (!ctx.router.hasInterest(tenantId, roomId)) return;
  ctx.router.route(tenantId, roomId, bytes);
  const conns = userId ? ctx.router.localConns(tenantId, userId) : ctx.router.roomConns(tenantId, roomId);
  for (const conn of conns) {
    if (!conn.rooms.has(roomId)) continue;
    ctx.typing.stopAll(conn, roomId);
    ctx.router.dropRoom(conn, roomId);
  }
}

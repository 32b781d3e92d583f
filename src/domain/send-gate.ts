/**
 * Why a send was refused. The send path takes its seq with one UPDATE that only matches when the
 * sender may send (store/rooms.ts SEND_GATE); when it matches nothing, this reads the room once and
 * answers the refusal REST and WebSocket share: not a member → NOT_FOUND, archived → CONFLICT,
 * muted → AUTHORIZATION_ERROR naming the mute's end, slow mode → pass (exempt, or the member's
 * slot was free and is now taken) or RATE_LIMIT_EXCEEDED with retry_after_ms.
 */
import { findByClientKey, type MessageRow } from '../store/messages.ts';
import { claimSendSlot, lastSentAt } from '../store/moderation.ts';
import { findMemberRoom, type MemberRoomRow } from '../store/rooms.ts';
import type { Ctx } from './context.ts';
import { DomainError, notFound } from './errors.ts';
import { isStaffRole } from './staff.ts';
import type { UserCaller } from './types.ts';
import { iso } from './validate.ts';

export type GateVerdict = { retry: true; slowOk: boolean } | { retry: false; prior: MessageRow };

/** Owners, moderators and staff roles are not slowed down. */
export const slowModeExempt = (me: UserCaller, room: MemberRoomRow): boolean =>
  room.my_role === 'owner' || room.my_role === 'moderator' || isStaffRole(me.user.role);

/** Throws the reason a member may not write to the room now (archived, muted); used by typing too. */
export function assertMayWrite(room: MemberRoomRow, now: number): void {
  if (room.archived_at !== null) throw new DomainError('CONFLICT', 'The room is archived: it keeps its history but takes no new messages');
  if (room.muted_until !== null && room.muted_until > now) {
    const until = iso(room.muted_until);
    throw new DomainError('AUTHORIZATION_ERROR', `You are muted in this room until ${until}`, [{ field: 'muted_until', message: until }]);
  }
}

export async function sendGate(
  ctx: Ctx, me: UserCaller, roomId: string, slowOk: boolean, attempt: number, clientKey: string | null,
): Promise<GateVerdict> {
  const room = await findMemberRoom(ctx.db, me.tenantId, me.user.id, roomId);
  if (!room) throw notFound('Room');
  const now = ctx.now();
  assertMayWrite(room, now);
  if (room.slow_mode_seconds > 0 && !slowOk) {
    if (slowModeExempt(me, room)) return { retry: true, slowOk: true };
    const prior = clientKey ? await findByClientKey(ctx.db, me.tenantId, roomId, me.user.id, clientKey) : undefined;
    if (prior) return { retry: false, prior }; // a repeat of a stored send is answered, never slowed down
    const interval = room.slow_mode_seconds * 1000;
    if ((await claimSendSlot(ctx.db, me.tenantId, roomId, me.user.id, now, interval)) === 1) return { retry: true, slowOk: true };
    const last = (await lastSentAt(ctx.db, me.tenantId, roomId, me.user.id)) ?? now;
    const wait = Math.max(1, last + interval - now);
    throw new DomainError('RATE_LIMIT_EXCEEDED', `Slow mode: one message every ${room.slow_mode_seconds} s; retry in ${wait} ms`, [], wait);
  }
  // Allowed now: the room changed between the UPDATE and this read (unmuted, unarchived …). Try again, a few times.
  if (attempt >= 2) throw notFound('Room');
  return { retry: true, slowOk };
}

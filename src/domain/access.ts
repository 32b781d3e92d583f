/** Room access: who is in a room and what their room role lets them do. */
import { findMemberRoom, type MemberRoomRow } from '../store/rooms.ts';
import type { Ctx } from './context.ts';
import { DomainError, notFound } from './errors.ts';
import type { Caller, UserCaller } from './types.ts';
import { requireUser } from './validate.ts';

export interface Membership {
  me: UserCaller;
  room: MemberRoomRow; // includes my_role and my cursors
}

/** The caller's membership of the room. Not a member (or no such room) → NOT_FOUND, so rooms don't leak. */
export async function membership(ctx: Ctx, caller: Caller, roomId: string): Promise<Membership> {
  const me = requireUser(caller);
  assertInScope(me, roomId);
  const room = typeof roomId === 'string' && roomId.length <= 64
    ? await findMemberRoom(ctx.db, me.tenantId, me.user.id, roomId)
    : undefined;
  if (!room) throw notFound('Room');
  return { me, room };
}

export const isRoomManager = (room: MemberRoomRow): boolean => room.my_role === 'owner' || room.my_role === 'moderator';

export function assertRoomManager(room: MemberRoomRow, action: string): void {
  if (!isRoomManager(room)) throw new DomainError('AUTHORIZATION_ERROR', `Only the room's owner or moderators may ${action}`);
}

/** A token scoped to one room sees every other room as nonexistent. */
export function assertInScope(me: UserCaller, roomId: unknown): void {
  if (me.roomId !== undefined && roomId !== me.roomId) throw notFound('Room');
}

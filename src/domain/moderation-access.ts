/**
 * Who may moderate a room, and whom: the room's owner and moderators, and anyone with a staff role
 * (tenant-wide, even when not a member); never someone of equal or higher rank (staff.ts rankOf).
 */
import { findMember, type MemberRow } from '../store/members.ts';
import { findRoom, type RoomRow } from '../store/rooms.ts';
import { findUser } from '../store/users.ts';
import type { Ctx } from './context.ts';
import { DomainError, notFound } from './errors.ts';
import type { Role } from './shapes.ts';
import { assertOutranks, isStaffRole, rankOf } from './staff.ts';
import type { Caller, UserCaller } from './types.ts';
import { checkUserId, invalid, requireUser } from './validate.ts';

export interface ModAccess {
  me: UserCaller;
  room: RoomRow;
  rank: number;
}

export async function modAccess(ctx: Ctx, caller: Caller, roomId: string, action: string): Promise<ModAccess> {
  const me = requireUser(caller);
  const room = typeof roomId === 'string' && roomId.length <= 64 ? await findRoom(ctx.db, me.tenantId, roomId) : undefined;
  if (!room) throw notFound('Room');
  const mine = await findMember(ctx.db, me.tenantId, room.id, me.user.id);
  const staff = isStaffRole(me.user.role);
  if (!mine && !staff) throw notFound('Room');
  if (!staff && mine!.role !== 'owner' && mine!.role !== 'moderator') {
    throw new DomainError('AUTHORIZATION_ERROR', `Only the room's owner or moderators (or staff) may ${action}`);
  }
  return { me, room, rank: rankOf(me.user.role, mine?.role ?? null) };
}

export interface Target {
  userId: string;
  member: MemberRow | undefined;
}

/** The user to act on: must exist in the tenant and rank below the actor. */
export async function outrankedTarget(ctx: Ctx, a: ModAccess, userIdValue: unknown, action: string, field = 'user_id'): Promise<Target> {
  const userId = checkUserId(field, userIdValue);
  const user = await findUser(ctx.db, a.me.tenantId, userId);
  if (!user) throw notFound('User');
  const member = await findMember(ctx.db, a.me.tenantId, a.room.id, userId);
  assertOutranks(a.rank, rankOf(user.role as Role, member?.role ?? null), action);
  return { userId, member };
}

/** An instant in the future (bans and mutes end then). */
export function futureTime(field: string, value: unknown, now: number): number {
  const ms = typeof value === 'string' ? Date.parse(value) : NaN;
  if (!Number.isFinite(ms)) throw invalid(field, 'must be an ISO-8601 date-time');
  if (ms <= now) throw invalid(field, 'must be in the future');
  return ms;
}

export function checkReason(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string' || value.length === 0 || value.length > 500) throw invalid('reason', 'must be 1-500 characters');
  return value;
}

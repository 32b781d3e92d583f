/**
 * A room's settings and members one by one: archive / unarchive, slow mode, getting a member and
 * changing their room role (owners only; a room never loses its last owner).
 */
import * as members from '../store/members.ts';
import { lockOwners } from '../store/moderation.ts';
import * as rooms from '../store/rooms.ts';
import { membership } from './access.ts';
import type { Ctx } from './context.ts';
import { DomainError, notFound } from './errors.ts';
import { memberOut, roomSummary } from './mappers.ts';
import type { RoomMemberDetail } from './moderation-types.ts';
import { roomDetail } from './room-views.ts';
import type { MemberRole } from './shapes.ts';
import { audit } from './staff.ts';
import type { Caller, Domain } from './types.ts';
import { checkInt, invalid, isoOrNull } from './validate.ts';

const ROLES: readonly MemberRole[] = ['owner', 'moderator', 'member'];

async function setArchived(ctx: Ctx, caller: Caller, roomId: string, archive: boolean) {
  const { me, room } = await membership(ctx, caller, roomId);
  if (room.my_role !== 'owner' && !me.user.permissions.can_archive_conversation) {
    throw new DomainError('AUTHORIZATION_ERROR', "Archiving takes the room's owner or can_archive_conversation");
  }
  if ((room.archived_at !== null) === archive) throw new DomainError('CONFLICT', archive ? 'The room is already archived' : 'The room is not archived');
  const now = ctx.now();
  const patch = { archived_at: archive ? now : null, updated_at: now };
  await ctx.change(async (trx, emit) => {
    await rooms.updateRoom(trx, me.tenantId, room.id, patch);
    emit({ type: 'room.updated', tenant_id: me.tenantId, room_id: room.id, room: roomSummary({ ...room, ...patch }) });
    await audit(ctx, me.tenantId, { actor: me.user.id, action: archive ? 'room.archived' : 'room.unarchived', roomId: room.id }, trx);
  });
  return roomDetail(ctx, me.tenantId, me.user.id, { ...room, ...patch }, me.user.permissions.can_receive_message);
}

async function getMember(ctx: Ctx, caller: Caller, roomId: string, userId: string): Promise<RoomMemberDetail> {
  const { me, room } = await membership(ctx, caller, roomId);
  const row = typeof userId === 'string' ? await members.findMember(ctx.db, me.tenantId, room.id, userId) : undefined;
  if (!row) throw notFound('Member');
  const mutedUntil = (row as members.MemberRow & { muted_until?: number | string | null }).muted_until;
  const until = mutedUntil == null || Number(mutedUntil) <= ctx.now() ? null : Number(mutedUntil);
  return { ...memberOut(row), muted_until: isoOrNull(until) };
}

async function updateMember(ctx: Ctx, caller: Caller, roomId: string, userId: string, input: { role: MemberRole }) {
  const { me, room } = await membership(ctx, caller, roomId);
  if (!ROLES.includes(input.role)) throw invalid('role', `must be one of ${ROLES.join(', ')}`);
  if (room.my_role !== 'owner') throw new DomainError('AUTHORIZATION_ERROR', "Only the room's owners may change room roles");
  if (room.type === 'dm') throw new DomainError('CONFLICT', 'A direct message has fixed members');
  const row = typeof userId === 'string' ? await members.findMember(ctx.db, me.tenantId, room.id, userId) : undefined;
  if (!row) throw notFound('Member');
  if (row.role === input.role) return memberOut(row);
  await ctx.change(async (trx) => {
    const owners = await lockOwners(trx, me.tenantId, room.id);
    if (row.role === 'owner' && owners.length <= 1) throw new DomainError('CONFLICT', 'A room never loses its last owner: make someone else owner first');
    if ((await members.updateMemberRole(trx, me.tenantId, room.id, userId, input.role)) === 0) throw notFound('Member');
    await audit(ctx, me.tenantId, { actor: me.user.id, action: 'member.role_changed', roomId: room.id, target: userId, detail: { from: row.role, to: input.role } }, trx);
  });
  return memberOut({ ...row, role: input.role });
}

/** Slow mode (owners and moderators): the room gets room.updated. */
export async function setSlowMode(ctx: Ctx, me: { tenantId: string; user: { id: string } }, room: rooms.MemberRoomRow, value: unknown, name?: string | null) {
  const seconds = checkInt('slow_mode_seconds', value, 0, 86400);
  const now = ctx.now();
  const patch = { slow_mode_seconds: seconds, updated_at: now, ...(name !== undefined ? { name } : {}) };
  await ctx.change(async (trx, emit) => {
    await rooms.updateRoom(trx, me.tenantId, room.id, patch);
    emit({ type: 'room.updated', tenant_id: me.tenantId, room_id: room.id, room: roomSummary({ ...room, ...patch }) });
    if (seconds !== room.slow_mode_seconds) {
      await audit(ctx, me.tenantId, { actor: me.user.id, action: 'room.slow_mode', roomId: room.id, detail: { slow_mode_seconds: seconds } }, trx);
    }
  });
}

export function roomAdminApi(ctx: Ctx): Pick<Domain['rooms'], 'archive' | 'unarchive' | 'getMember' | 'updateMember'> {
  return {
    archive: (caller, roomId) => setArchived(ctx, caller, roomId, true),
    unarchive: (caller, roomId) => setArchived(ctx, caller, roomId, false),
    getMember: (caller, roomId, userId) => getMember(ctx, caller, roomId, userId),
    updateMember: (caller, roomId, userId, input) => updateMember(ctx, caller, roomId, userId, input),
  };
}

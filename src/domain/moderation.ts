/**
 * Room moderation: bans (timed or permanent), mutes, purges. Each is one transaction that also
 * writes its event (member.banned, member.muted, messages.purged) and its audit entry.
 */
import * as bans from '../store/bans.ts';
import { deleteMember } from '../store/members.ts';
import { purgeMessages, setMute, type PurgeScope } from '../store/moderation.ts';
import { findMemberRoom } from '../store/rooms.ts';
import type { Ctx } from './context.ts';
import { DomainError, notFound } from './errors.ts';
import { checkReason, futureTime, modAccess, outrankedTarget } from './moderation-access.ts';
import type { BanInput, MuteInput, PurgeInput, PurgeResult, RoomBan, RoomMute } from './moderation-types.ts';
import { assertMayWrite } from './send-gate.ts';
import { audit } from './staff.ts';
import type { Caller, Domain, Page } from './types.ts';
import { checkInt, checkUserId, invalid, iso, isoOrNull, paginate, readPage, requireUser } from './validate.ts';
import { userBansApi } from './user-bans.ts';

const banOut = (r: bans.RoomBanRow): RoomBan => ({
  room_id: r.room_id, user_id: r.user_id, until: isoOrNull(r.until), reason: r.reason, banned_by: r.banned_by, created_at: iso(r.created_at),
});

const fixedDm = () => new DomainError('CONFLICT', 'A direct message has fixed members: nobody can be banned from it');

async function ban(ctx: Ctx, caller: Caller, roomId: string, input: BanInput): Promise<RoomBan> {
  const a = await modAccess(ctx, caller, roomId, 'ban members');
  if (a.room.type === 'dm') throw fixedDm();
  const now = ctx.now();
  const until = input.until === undefined ? null : futureTime('until', input.until, now);
  const reason = checkReason(input.reason);
  const { userId } = await outrankedTarget(ctx, a, input.user_id, 'ban');
  const row: bans.RoomBanRow = { tenant_id: a.me.tenantId, room_id: a.room.id, user_id: userId, until, reason, banned_by: a.me.user.id, created_at: now };
  await ctx.change(async (trx, emit) => {
    // The ban first, then the removal: an add racing with this sees the ban (members.ts admitMember).
    await bans.putRoomBan(trx, row);
    emit({ type: 'member.banned', tenant_id: a.me.tenantId, room_id: a.room.id, user_id: userId, until: isoOrNull(until), by: a.me.user.id });
    if ((await deleteMember(trx, a.me.tenantId, a.room.id, userId)) > 0) {
      emit({ type: 'member.left', tenant_id: a.me.tenantId, room_id: a.room.id, user_id: userId });
    }
    await audit(ctx, a.me.tenantId, { actor: a.me.user.id, action: 'member.banned', roomId: a.room.id, target: userId, detail: { until: isoOrNull(until), reason } }, trx);
  });
  return banOut(row);
}

async function unban(ctx: Ctx, caller: Caller, roomId: string, userId: string): Promise<void> {
  const a = await modAccess(ctx, caller, roomId, 'lift bans');
  checkUserId('user_id', userId);
  await ctx.change(async (trx) => {
    if ((await bans.deleteRoomBan(trx, a.me.tenantId, a.room.id, userId, ctx.now())) === 0) throw notFound('Ban');
    await audit(ctx, a.me.tenantId, { actor: a.me.user.id, action: 'member.unbanned', roomId: a.room.id, target: userId }, trx);
  });
}

async function mute(ctx: Ctx, caller: Caller, roomId: string, input: MuteInput): Promise<RoomMute> {
  const a = await modAccess(ctx, caller, roomId, 'mute members');
  const seconds = checkInt('duration_seconds', input.duration_seconds, 1, 365 * 86400);
  const reason = checkReason(input.reason);
  const { userId, member } = await outrankedTarget(ctx, a, input.user_id, 'mute');
  if (!member) throw notFound('Member');
  const until = ctx.now() + seconds * 1000;
  await setMuted(ctx, a, userId, until, reason);
  return { room_id: a.room.id, user_id: userId, until: iso(until), reason, muted_by: a.me.user.id };
}

async function setMuted(ctx: Ctx, a: Awaited<ReturnType<typeof modAccess>>, userId: string, until: number | null, reason: string | null) {
  await ctx.change(async (trx, emit) => {
    if ((await setMute(trx, a.me.tenantId, a.room.id, userId, until)) === 0) throw notFound('Member');
    emit({ type: 'member.muted', tenant_id: a.me.tenantId, room_id: a.room.id, user_id: userId, until: isoOrNull(until), by: a.me.user.id });
    const action = until === null ? 'member.unmuted' : 'member.muted';
    await audit(ctx, a.me.tenantId, { actor: a.me.user.id, action, roomId: a.room.id, target: userId, detail: { until: isoOrNull(until), reason } }, trx);
  });
}

function purgeScope(input: PurgeInput): PurgeScope {
  const scope: PurgeScope = {};
  const time = (field: string, v: unknown) => {
    const ms = typeof v === 'string' ? Date.parse(v) : NaN;
    if (!Number.isFinite(ms)) throw invalid(field, 'must be an ISO-8601 date-time');
    return ms;
  };
  if (input.from !== undefined) scope.from = time('from', input.from);
  if (input.to !== undefined) scope.to = time('to', input.to);
  if (scope.from !== undefined && scope.to !== undefined && scope.from >= scope.to) throw invalid('to', 'must be after from');
  return scope;
}

async function purge(ctx: Ctx, caller: Caller, roomId: string, input: PurgeInput): Promise<PurgeResult> {
  const a = await modAccess(ctx, caller, roomId, 'purge messages');
  const scope = purgeScope(input);
  if (input.user_id !== undefined) scope.senderId = (await outrankedTarget(ctx, a, input.user_id, 'purge the messages of')).userId;
  if (Object.keys(scope).length === 0) throw invalid('body', 'name user_id, or a time range (from, to)');
  const now = ctx.now();
  const seqs = await ctx.change(async (trx, emit) => {
    const done = await purgeMessages(trx, a.me.tenantId, a.room.id, scope, now);
    if (done.length === 0) return done;
    // One event for the whole purge, however many messages it tombstoned.
    emit({ type: 'messages.purged', tenant_id: a.me.tenantId, room_id: a.room.id, seqs: done, ...(scope.senderId ? { user_id: scope.senderId } : {}), deleted_at: iso(now), by: a.me.user.id });
    await audit(ctx, a.me.tenantId, {
      actor: a.me.user.id, action: 'messages.purged', roomId: a.room.id, target: scope.senderId ?? null,
      detail: { count: done.length, from: input.from ?? null, to: input.to ?? null },
    }, trx);
    return done;
  });
  return { room_id: a.room.id, purged: seqs.length, seqs };
}

export function moderationApi(ctx: Ctx): Domain['moderation'] {
  return {
    ...userBansApi(ctx),
    ban: (caller, roomId, input) => ban(ctx, caller, roomId, input),
    unban: (caller, roomId, userId) => unban(ctx, caller, roomId, userId),
    async listBans(caller, roomId, page: Page) {
      const a = await modAccess(ctx, caller, roomId, 'see bans');
      const { limit, after } = readPage<[number, string]>(page, ['number', 'string']);
      const rows = await bans.listRoomBans(ctx.db, a.me.tenantId, a.room.id, ctx.now(), after, limit + 1);
      return paginate(rows, limit, banOut, (r) => [r.created_at, r.user_id]);
    },
    mute: (caller, roomId, input) => mute(ctx, caller, roomId, input),
    async unmute(caller, roomId, userId) {
      const a = await modAccess(ctx, caller, roomId, 'unmute members');
      await outrankedTarget(ctx, a, userId, 'unmute');
      await setMuted(ctx, a, userId, null, null);
    },
    purge: (caller, roomId, input) => purge(ctx, caller, roomId, input),
    async assertMayType(caller, roomId) {
      const me = requireUser(caller);
      const room = await findMemberRoom(ctx.db, me.tenantId, me.user.id, roomId);
      if (!room) throw notFound('Room');
      assertMayWrite(room, ctx.now());
    },
  };
}

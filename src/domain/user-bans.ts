/**
 * Tenant-wide bans: a banned user's credentials are refused (REST 401, WebSocket 4003), no token
 * can be minted for them, and their open connections close (4013) on the `user.banned` event.
 */
import * as bans from '../store/bans.ts';
import { findUser, type UserRow } from '../store/users.ts';
import type { Ctx } from './context.ts';
import { DomainError, notFound } from './errors.ts';
import { checkReason, futureTime } from './moderation-access.ts';
import type { UserBanInput } from './moderation-types.ts';
import { isAdmin } from './permissions.ts';
import type { Role } from './shapes.ts';
import { assertOutranks, audit, rankOf } from './staff.ts';
import type { Caller, Domain } from './types.ts';
import { iso, isoOrNull } from './validate.ts';

/** The audit log's actor for the tenant key itself (not a user id: user ids never contain a space). */
const TENANT_ACTOR = 'tenant key';

/** Is a ban in force on this user row at `now`? (Rows carry banned_at / banned_until.) */
export function banOf(row: Partial<bans.UserBanFields>, now: number): { until: number | null } | null {
  if (row.banned_at == null) return null;
  const until = row.banned_until == null ? null : Number(row.banned_until);
  return until === null || until > now ? { until } : null;
}

export function bannedMessage(until: number | null): string {
  return `The user is banned ${until === null ? 'permanently' : `until ${iso(until)}`}`;
}

async function target(ctx: Ctx, caller: Caller, userId: string, action: string): Promise<{ tenantId: string; actor: string; user: UserRow }> {
  const tenantId = caller.tenantId;
  const user = typeof userId === 'string' ? await findUser(ctx.db, tenantId, userId) : undefined;
  if (caller.kind === 'user' && !isAdmin(caller.user.role)) {
    throw new DomainError('AUTHORIZATION_ERROR', `Only the tenant key or an admin may ${action} users`);
  }
  if (!user) throw notFound('User');
  if (caller.kind === 'user') assertOutranks(rankOf(caller.user.role, null), rankOf(user.role as Role, null), action);
  return { tenantId, actor: caller.kind === 'user' ? caller.user.id : TENANT_ACTOR, user };
}

export function userBansApi(ctx: Ctx): Pick<Domain['moderation'], 'banUser' | 'unbanUser' | 'isUserBanned'> {
  return {
    async banUser(caller, userId, input: UserBanInput) {
      const now = ctx.now();
      const until = input.until === undefined ? null : futureTime('until', input.until, now);
      const reason = checkReason(input.reason);
      const { tenantId, actor, user } = await target(ctx, caller, userId, 'ban');
      await ctx.change(async (trx, emit) => {
        await bans.setUserBan(trx, tenantId, user.id, { banned_at: now, banned_until: until, ban_reason: reason, banned_by: actor });
        emit({ type: 'user.banned', tenant_id: tenantId, room_id: null, user_id: user.id, until: isoOrNull(until), by: actor });
        await audit(ctx, tenantId, { actor, action: 'user.banned', target: user.id, detail: { until: isoOrNull(until), reason } }, trx);
      });
      return { user_id: user.id, until: isoOrNull(until), reason, banned_by: actor, banned_at: iso(now) };
    },
    async unbanUser(caller, userId) {
      const { tenantId, actor, user } = await target(ctx, caller, userId, 'unban');
      if (!banOf(user as Partial<bans.UserBanFields>, ctx.now())) throw notFound('Ban');
      await ctx.change(async (trx, emit) => {
        await bans.setUserBan(trx, tenantId, user.id, { banned_at: null, banned_until: null, ban_reason: null, banned_by: null });
        emit({ type: 'user.unbanned', tenant_id: tenantId, room_id: null, user_id: user.id, until: null, by: actor });
        await audit(ctx, tenantId, { actor, action: 'user.unbanned', target: user.id }, trx);
      });
    },
    async isUserBanned(tenantId, userId) {
      return (await bans.activeUserBan(ctx.db, tenantId, userId, ctx.now())) !== undefined;
    },
  };
}

/**
 * Staff roles and rank: who may see every conversation, work tickets and moderate, and the rule
 * that nobody moderates someone of equal or higher rank. Also the audit log's write side.
 */
import { insertAudit } from '../store/audit.ts';
import type { Db } from '../store/db.ts';
import type { Ctx } from './context.ts';
import { DomainError } from './errors.ts';
import type { Role } from './shapes.ts';
import type { Caller, UserCaller } from './types.ts';
import { requireUser } from './validate.ts';

const TENANT_RANK: Record<Role, number> = { guest: 0, user: 0, staff: 1, moderator: 2, admin: 3, superadmin: 4 };
const ROOM_RANK: Record<string, number> = { member: 0, moderator: 1, owner: 2 };

/** `staff`, `moderator`, `admin`, `superadmin`: the admin panel, tickets and tenant-wide moderation. */
export const isStaffRole = (role: Role): boolean => TENANT_RANK[role] >= 1;

/** A user caller with a staff role; a plain `user` (or the bare tenant key) gets AUTHORIZATION_ERROR. */
export function requireStaff(caller: Caller): UserCaller {
  const me = requireUser(caller);
  if (!isStaffRole(me.user.role)) {
    throw new DomainError('AUTHORIZATION_ERROR', 'This needs a staff role (staff, moderator, admin or superadmin)');
  }
  return me;
}

/** One number per person in a room: the tenant role first, then the room role (null: not a member). */
export const rankOf = (role: Role, roomRole: string | null): number => TENANT_RANK[role] * 10 + (roomRole ? ROOM_RANK[roomRole] ?? 0 : 0);

export function assertOutranks(actorRank: number, targetRank: number, action: string): void {
  if (actorRank <= targetRank) {
    throw new DomainError('AUTHORIZATION_ERROR', `You may not ${action} someone of equal or higher rank`);
  }
}

export interface AuditInput {
  actor: string;
  action: string;
  roomId?: string | null;
  target?: string | null;
  detail?: Record<string, unknown> | null;
}

/** Writes an audit entry; pass the change's transaction so the entry exists if and only if the change does. */
export async function audit(ctx: Ctx, tenantId: string, a: AuditInput, db: Db = ctx.db): Promise<void> {
  await insertAudit(db, {
    tenant_id: tenantId,
    actor_id: a.actor,
    action: a.action,
    room_id: a.roomId ?? null,
    target_user_id: a.target ?? null,
    detail: a.detail ? JSON.stringify(a.detail) : null,
    created_at: ctx.now(),
  });
}

/** Room membership: list, add, remove (and leave). DMs have fixed members; the owner cannot leave. */
import { isForeignKeyViolation, isUniqueViolation } from '../store/db.ts';
import { activeRoomBan } from '../store/bans.ts';
import * as store from '../store/members.ts';
import { findUser } from '../store/users.ts';
import { assertRoomManager, membership } from './access.ts';
import type { Ctx } from './context.ts';
import { DomainError, notFound } from './errors.ts';
import { memberOut } from './mappers.ts';
import type { MemberRole } from './shapes.ts';
import type { Caller, Domain } from './types.ts';
import { checkUserId, invalid, iso, paginate, readPage } from './validate.ts';

const ADDABLE_ROLES: readonly MemberRole[] = ['moderator', 'member'];
const fixedDm = () => new DomainError('CONFLICT', 'A direct message has fixed members');

async function addMember(ctx: Ctx, caller: Caller, roomId: string, input: { user_id: string; role?: MemberRole }) {
  const { me, room } = await membership(ctx, caller, roomId);
  assertRoomManager(room, 'add members');
  if (room.type === 'dm') throw fixedDm();
  const userId = checkUserId('user_id', input.user_id);
  const role = input.role ?? 'member';
  if (!ADDABLE_ROLES.includes(role)) throw invalid('role', `must be one of ${ADDABLE_ROLES.join(', ')}`);
  if (role === 'moderator' && room.my_role !== 'owner') {
    throw new DomainError('AUTHORIZATION_ERROR', "Only the room's owner may add moderators");
  }
  if (!(await findUser(ctx.db, me.tenantId, userId))) throw invalid('user_id', `no user "${userId}"`);
  return admitMember(ctx, me.tenantId, room.id, userId, role);
}

function bannedError(userId: string, until: number | null): DomainError {
  const end = until === null ? 'permanently' : `until ${iso(until)}`;
  return new DomainError('AUTHORIZATION_ERROR', `"${userId}" is banned from this room ${end}`, [{ field: 'user_id', message: `banned ${end}` }]);
}

/**
 * The one way anyone enters an existing room (added by a manager, assigned to a ticket, joining by
 * invite): refuses users banned from the room, inserts the membership and tells the room.
 * A ban is checked again after the insert, in its transaction, so a ban racing with an add wins.
 */
export async function admitMember(ctx: Ctx, tenantId: string, roomId: string, userId: string, role: MemberRole) {
  const ban = await activeRoomBan(ctx.db, tenantId, roomId, userId, ctx.now());
  if (ban) throw bannedError(userId, ban.until);
  const row: store.MemberRow = {
    tenant_id: tenantId, room_id: roomId, user_id: userId, role, delivered_seq: 0, read_seq: 0, joined_at: ctx.now(),
  };
  const member = memberOut(row);
  try {
    await ctx.change(async (trx, emit) => {
      await store.insertMembers(trx, [row]);
      // A ban committed meanwhile: the insert rolls back (a ban's DELETE waits for this row on MySQL).
      const late = await activeRoomBan(trx, tenantId, roomId, userId, ctx.now());
      if (late) throw bannedError(userId, late.until);
      emit({ type: 'member.joined', tenant_id: tenantId, room_id: roomId, member });
    });
  } catch (err) {
    if (isUniqueViolation(err)) throw new DomainError('CONFLICT', `"${userId}" is already a member`, [{ field: 'user_id', message: 'already a member' }]);
    if (isForeignKeyViolation(err)) throw invalid('user_id', `no user "${userId}"`); // deleted meanwhile
    throw err;
  }
  return member;
}

/**
 * Leaving is always allowed except for the owner (who deletes the room instead). Removing someone
 * else takes an owner or moderator; only the owner may remove moderators; nobody removes the owner.
 */
async function removeMember(ctx: Ctx, caller: Caller, roomId: string, userId: string) {
  const { me, room } = await membership(ctx, caller, roomId);
  if (room.type === 'dm') throw fixedDm();
  if (userId === me.user.id) {
    if (room.my_role === 'owner') throw new DomainError('CONFLICT', 'The owner cannot leave the room; delete it instead');
  } else {
    assertRoomManager(room, 'remove members');
    const target = typeof userId === 'string' ? await store.findMember(ctx.db, me.tenantId, room.id, userId) : undefined;
    if (!target) throw notFound('Member');
    if (target.role === 'owner' || (target.role === 'moderator' && room.my_role !== 'owner')) {
      throw new DomainError('AUTHORIZATION_ERROR', `Only the room's owner may remove a ${target.role}`);
    }
  }
  await ctx.change(async (trx, emit) => {
    if ((await store.deleteMember(trx, me.tenantId, room.id, userId)) === 0) throw notFound('Member');
    emit({ type: 'member.left', tenant_id: me.tenantId, room_id: room.id, user_id: userId });
  });
}

export function membersApi(ctx: Ctx): Pick<Domain['rooms'], 'listMembers' | 'addMember' | 'removeMember'> {
  return {
    async listMembers(caller, roomId, page = {}) {
      const { me, room } = await membership(ctx, caller, roomId);
      const { limit, after } = readPage<[number, string]>(page, ['number', 'string']);
      const rows = await store.listMembers(ctx.db, me.tenantId, room.id, { after, limit: limit + 1 });
      return paginate(rows, limit, memberOut, (r) => [r.joined_at, r.user_id]);
    },
    addMember: (caller, roomId, input) => addMember(ctx, caller, roomId, input),
    removeMember: (caller, roomId, userId) => removeMember(ctx, caller, roomId, userId),
  };
}

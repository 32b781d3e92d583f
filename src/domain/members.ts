/** Room membership: list, add, remove (and leave). DMs have fixed members; the owner cannot leave. */
import { isForeignKeyViolation, isUniqueViolation } from '../store/db.ts';
import * as store from '../store/members.ts';
import { findUser } from '../store/users.ts';
import { assertRoomManager, membership } from './access.ts';
import type { Ctx } from './context.ts';
import { DomainError, notFound } from './errors.ts';
import { memberOut } from './mappers.ts';
import type { MemberRole } from './shapes.ts';
import type { Caller, Domain } from './types.ts';
import { checkUserId, invalid, paginate, readPage } from './validate.ts';

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

/**
 * The one path by which someone becomes a member of an existing room: addRoomMember, joinRoom
 * (invites) and exchangeRoomCode (emailed codes) all end here, so a rule about who may be in a
 * room (e.g. room bans) holds for every way in. Publishes `member.joined`.
 */
export async function admitMember(ctx: Ctx, tenantId: string, roomId: string, userId: string, role: MemberRole) {
  const row: store.MemberRow = {
    tenant_id: tenantId, room_id: roomId, user_id: userId, role, delivered_seq: 0, read_seq: 0, joined_at: ctx.now(),
  };
  try {
    await store.insertMembers(ctx.db, [row]);
  } catch (err) {
    if (isUniqueViolation(err)) throw new DomainError('CONFLICT', `"${userId}" is already a member`, [{ field: 'user_id', message: 'already a member' }]);
    if (isForeignKeyViolation(err)) throw invalid('user_id', `no user "${userId}"`); // deleted meanwhile
    throw err;
  }
  const member = memberOut(row);
  ctx.publish({ type: 'member.joined', tenant_id: tenantId, room_id: roomId, member });
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
  if ((await store.deleteMember(ctx.db, me.tenantId, room.id, userId)) === 0) throw notFound('Member');
  ctx.publish({ type: 'member.left', tenant_id: me.tenantId, room_id: room.id, user_id: userId });
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

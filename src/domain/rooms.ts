/** Rooms: DMs (one per pair), groups and channels, as seen by their members. */
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { isForeignKeyViolation, isUniqueViolation } from '../store/db.ts';
import { findMember, insertMembers, type MemberRow } from '../store/members.ts';
import * as store from '../store/rooms.ts';
import { existingUserIds } from '../store/users.ts';
import { assertRoomManager, membership } from './access.ts';
import type { Ctx, Emit } from './context.ts';
import { DomainError } from './errors.ts';
import { memberOut, roomSummary } from './mappers.ts';
import { membersApi } from './members.ts';
import { roomAdminApi, setSlowMode } from './room-admin.ts';
import { roomDetail, roomViews } from './room-views.ts';
import type { MemberRole, RoomType } from './shapes.ts';
import type { Caller, Domain, RoomInput, UserCaller } from './types.ts';
import { checkOptionalText, checkText, checkUserId, encodeCursor, invalid, readPage, requireUser } from './validate.ts';

const ROOM_TYPES: readonly RoomType[] = ['dm', 'group', 'channel'];
const MAX_MEMBERS_ON_CREATE = 1000;
const DM_KEY_SEPARATOR = '|'; // not allowed in user ids, so the pair key is unambiguous

function checkRoomInput(me: UserCaller, input: RoomInput): { type: RoomType; name: string | null; others: string[] } {
  const type = input.type;
  if (!ROOM_TYPES.includes(type)) throw invalid('type', `must be one of ${ROOM_TYPES.join(', ')}`);
  if (!Array.isArray(input.members) || input.members.length > MAX_MEMBERS_ON_CREATE) {
    throw invalid('members', `must be an array of at most ${MAX_MEMBERS_ON_CREATE} user ids`);
  }
  const ids = input.members.map((id, i) => checkUserId(`members[${i}]`, id));
  // The caller joins anyway (as owner); naming them again is harmless.
  const others = [...new Set(ids)].filter((id) => id !== me.user.id);
  if (type === 'dm') {
    if (others.length !== 1) throw invalid('members', 'a dm names exactly one other member');
    if (input.name !== undefined && input.name !== null) throw invalid('name', 'a dm has no name');
    return { type, name: null, others };
  }
  const name = checkOptionalText('name', input.name, 200);
  return { type, name: name ? name.trim() : null, others };
}

async function assertUsersExist(ctx: Ctx, tenantId: string, ids: string[]): Promise<void> {
  const found = await existingUserIds(ctx.db, tenantId, ids);
  const missing = ids.filter((id) => !found.has(id));
  if (missing.length > 0) {
    throw new DomainError(
      'VALIDATION_ERROR',
      `members: unknown user${missing.length > 1 ? 's' : ''} ${missing.map((id) => `"${id}"`).join(', ')}`,
      missing.map((id) => ({ field: `members[${ids.indexOf(id)}]`, message: `no user "${id}"` })),
    );
  }
}

function memberRows(tenantId: string, roomId: string, owner: string, others: string[], now: number): MemberRow[] {
  const row = (user_id: string, role: MemberRole): MemberRow => ({
    tenant_id: tenantId, room_id: roomId, user_id, role, delivered_seq: 0, read_seq: 0, joined_at: now,
  });
  return [row(owner, 'owner'), ...others.map((id) => row(id, 'member'))];
}

async function insertRoomWithMembers(trx: Knex.Transaction, emit: Emit, room: store.RoomRow, members: MemberRow[]): Promise<void> {
  await store.insertRoom(trx, room);
  await insertMembers(trx, members);
  emitJoined(emit, room.tenant_id, room.id, members);
}

/** Stores the room and its members in one transaction; a member deleted meanwhile is named like an unknown one. */
async function storeRoom(ctx: Ctx, tenantId: string, room: store.RoomRow, members: MemberRow[], others: string[]): Promise<void> {
  try {
    await ctx.change((trx, emit) => insertRoomWithMembers(trx, emit, room, members));
  } catch (err) {
    if (!isForeignKeyViolation(err)) throw err;
    await assertUsersExist(ctx, tenantId, others);
    throw new DomainError('NOT_FOUND', 'User not found (deleted while the room was being created)');
  }
}

async function detailFor(ctx: Ctx, me: UserCaller, roomId: string) {
  const { room } = await membership(ctx, me, roomId);
  return roomDetail(ctx, me.tenantId, me.user.id, room, me.user.permissions.can_receive_message);
}

/** One DM per pair: the UNIQUE(tenant_id, dm_key) decides races; the loser re-reads the winner's room. */
async function createDm(ctx: Ctx, me: UserCaller, room: store.RoomRow, other: string) {
  const tenantId = me.tenantId;
  const dmKey = [me.user.id, other].sort().join(DM_KEY_SEPARATOR);
  const existing = await store.findDmRoom(ctx.db, tenantId, dmKey);
  if (existing) return reuseDm(ctx, me, existing, other);
  const members = memberRows(tenantId, room.id, me.user.id, [other], room.created_at);
  try {
    await storeRoom(ctx, tenantId, { ...room, dm_key: dmKey }, members, [other]);
  } catch (err) {
    if (!isUniqueViolation(err)) throw err;
    const winner = await store.findDmRoom(ctx.db, tenantId, dmKey);
    if (!winner) throw err;
    return reuseDm(ctx, me, winner, other);
  }
  return { room: await detailFor(ctx, me, room.id), created: true };
}

/**
 * The pair's existing DM. A participant who was deleted and re-created (which cascades their
 * membership away) is put back, so the pair never ends up with a DM one of them cannot open.
 */
async function reuseDm(ctx: Ctx, me: UserCaller, room: store.RoomRow, other: string) {
  for (const userId of [me.user.id, other]) {
    if (await findMember(ctx.db, me.tenantId, room.id, userId)) continue;
    const role: MemberRole = userId === room.created_by ? 'owner' : 'member';
    const row: MemberRow = { tenant_id: me.tenantId, room_id: room.id, user_id: userId, role, delivered_seq: 0, read_seq: 0, joined_at: ctx.now() };
    try {
      await ctx.change(async (trx, emit) => {
        await insertMembers(trx, [row]);
        emitJoined(emit, me.tenantId, room.id, [row]);
      });
    } catch (err) {
      // A concurrent call put them back first, or they were deleted meanwhile (then the DM is theirs no more).
      if (!isUniqueViolation(err) && !isForeignKeyViolation(err)) throw err;
    }
  }
  return { room: await detailFor(ctx, me, room.id), created: false };
}

function emitJoined(emit: Emit, tenantId: string, roomId: string, members: MemberRow[]): void {
  for (const m of members) emit({ type: 'member.joined', tenant_id: tenantId, room_id: roomId, member: memberOut(m) });
}

async function create(ctx: Ctx, caller: Caller, input: RoomInput) {
  const me = requireUser(caller);
  const { type, name, others } = checkRoomInput(me, input);
  await assertUsersExist(ctx, me.tenantId, others);
  const now = ctx.now();
  const room: store.RoomRow = {
    id: randomUUID(), tenant_id: me.tenantId, type, name, dm_key: null, created_by: me.user.id, last_seq: 0, created_at: now, updated_at: now,
    archived_at: null, slow_mode_seconds: 0,
  };
  if (type === 'dm') return createDm(ctx, me, room, others[0]!);
  const members = memberRows(me.tenantId, room.id, me.user.id, others, now);
  await storeRoom(ctx, me.tenantId, room, members, others);
  return { room: await detailFor(ctx, me, room.id), created: true };
}

export function roomsApi(ctx: Ctx): Domain['rooms'] {
  return {
    ...membersApi(ctx),
    ...roomAdminApi(ctx),
    create: (caller, input) => create(ctx, caller, input),

    async list(caller, page, opts = {}) {
      const me = requireUser(caller);
      const { limit, after } = readPage<[number, string]>(page, ['number', 'string']);
      const rows = await store.listMemberRooms(ctx.db, me.tenantId, me.user.id, after, limit + 1, opts.includeArchived === true);
      const pageRows = rows.slice(0, limit);
      const last = pageRows[pageRows.length - 1];
      return {
        items: await roomViews(ctx, me.tenantId, me.user.id, pageRows, me.user.permissions.can_receive_message),
        next_cursor: rows.length > limit && last ? encodeCursor([last.updated_at, last.id]) : null,
      };
    },

    async get(caller, roomId) {
      const { me, room } = await membership(ctx, caller, roomId);
      return roomDetail(ctx, me.tenantId, me.user.id, room, me.user.permissions.can_receive_message);
    },

    async update(caller, roomId, patch) {
      const { me, room } = await membership(ctx, caller, roomId);
      assertRoomManager(room, 'change the room');
      if (patch.name === undefined && patch.slow_mode_seconds === undefined) throw invalid('body', 'give name and/or slow_mode_seconds');
      if (patch.name !== undefined && room.type === 'dm') throw invalid('name', 'a dm has no name');
      const name = patch.name === undefined ? room.name : patch.name === null ? null : checkText('name', patch.name, 200).trim();
      if (patch.slow_mode_seconds !== undefined) {
        await setSlowMode(ctx, me, room, patch.slow_mode_seconds, name);
        return detailFor(ctx, me, room.id);
      }
      const now = ctx.now();
      await ctx.change(async (trx, emit) => {
        await store.updateRoom(trx, me.tenantId, room.id, { name, updated_at: now });
        emit({ type: 'room.updated', tenant_id: me.tenantId, room_id: room.id, room: roomSummary({ ...room, name, updated_at: now }) });
      });
      return detailFor(ctx, me, room.id);
    },

    async remove(caller, roomId) {
      const { me, room } = await membership(ctx, caller, roomId);
      if (room.my_role !== 'owner') throw new DomainError('AUTHORIZATION_ERROR', "Only the room's owner may delete it");
      await ctx.change(async (trx, emit) => {
        await store.deleteRoom(trx, me.tenantId, room.id);
        emit({ type: 'room.deleted', tenant_id: me.tenantId, room_id: room.id, room: roomSummary(room) });
      });
    },

    roomsOfUser: (tenantId, userId) => store.roomCursorsOfUser(ctx.db, tenantId, userId),
    roomsOfUsers: (tenantId, userIds) => store.roomCursorsOfUsers(ctx.db, tenantId, userIds),
  };
}

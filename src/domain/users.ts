/** Users: the integrator's people, identified by the integrator's own ids. */
import * as store from '../store/users.ts';
import { isUniqueViolation } from '../store/db.ts';
import { successor, updateMemberRole } from '../store/members.ts';
import { allMemberRooms, deleteRooms, roomsWithoutMembers } from '../store/rooms.ts';
import { roomSummary } from './mappers.ts';
import type { Ctx } from './context.ts';
import { banOf } from './user-bans.ts';
import { DomainError, notFound } from './errors.ts';
import { userOut } from './mappers.ts';
import { assertMayGrant, assertUserManager, checkPermissions, checkRole, defaultPermissions } from './permissions.ts';
import type { Permissions, Role } from './shapes.ts';
import type { Caller, Domain, UserInput, UserPatchInput } from './types.ts';
import { checkOptionalText, checkText, checkUserId, invalid, paginate, readPage, USER_ID_RE } from './validate.ts';
import { endSessions, updateSessions } from './sessions.ts';

const EMAIL_RE = /^[^\s@]+@[^\s@]+$/;

function checkEmail(value: unknown): string | null | undefined {
  const email = checkOptionalText('email', value, 254);
  if (typeof email === 'string' && !EMAIL_RE.test(email)) throw invalid('email', 'must be an email address');
  return email;
}

/** Profile fields anyone may set on themselves. */
function profilePatch(input: UserPatchInput): Partial<store.UserRow> {
  const out: Partial<store.UserRow> = {};
  if (input.username !== undefined) out.username = checkText('username', input.username, 100).trim();
  const email = checkEmail(input.email);
  if (email !== undefined) out.email = email;
  const displayName = checkOptionalText('display_name', input.display_name, 200);
  if (displayName !== undefined) out.display_name = displayName;
  return out;
}

/** Role changes reset permissions to the new role's defaults, then explicit flags apply. */
function nextPermissions(current: Permissions, oldRole: Role, newRole: Role, flags: Partial<Permissions> | undefined): Permissions {
  const base = newRole !== oldRole ? defaultPermissions(newRole) : current;
  return { ...base, ...flags };
}

/** Turns a unique violation on insert/update into a CONFLICT that names the field. */
async function conflict(ctx: Ctx, tenantId: string, id: string | undefined, err: unknown): Promise<never> {
  if (!isUniqueViolation(err)) throw err;
  if (id !== undefined && (await store.findUser(ctx.db, tenantId, id))) {
    throw new DomainError('CONFLICT', `A user with id "${id}" already exists`, [{ field: 'id', message: 'already exists' }]);
  }
  throw new DomainError('CONFLICT', 'That username is taken', [{ field: 'username', message: 'already taken' }]);
}

async function load(ctx: Ctx, tenantId: string, userId: string): Promise<store.UserRow> {
  const row = typeof userId === 'string' ? await store.findUser(ctx.db, tenantId, userId) : undefined;
  if (!row) throw notFound('User');
  return row;
}

/** An admin may not manage a superadmin in any way. */
function assertMayManageTarget(caller: Caller, target: store.UserRow): void {
  if (caller.kind === 'user' && caller.user.role === 'admin' && target.role === 'superadmin') {
    throw new DomainError('AUTHORIZATION_ERROR', 'Only the tenant key or a superadmin may manage superadmins');
  }
}

async function create(ctx: Ctx, caller: Caller, input: UserInput) {
  assertUserManager(caller, 'create users');
  const id = checkUserId('id', input.id);
  const role = input.role === undefined ? 'user' : checkRole(input.role);
  const flags = input.permissions === undefined ? undefined : checkPermissions(input.permissions);
  if (input.role !== undefined || flags !== undefined) assertMayGrant(caller, undefined, role);
  const now = ctx.now();
  const row: store.UserRow = {
    tenant_id: caller.tenantId,
    id,
    username: checkText('username', input.username, 100).trim(),
    email: null,
    display_name: null,
    ...profilePatch({ email: input.email, display_name: input.display_name }),
    role,
    permissions: JSON.stringify({ ...defaultPermissions(role), ...flags }),
    created_at: now,
    updated_at: now,
  };
  await store.insertUser(ctx.db, row).catch((err) => conflict(ctx, caller.tenantId, id, err));
  return userOut(row);
}

async function update(ctx: Ctx, caller: Caller, userId: string, patch: UserPatchInput) {
  const target = await load(ctx, caller.tenantId, userId);
  const self = caller.kind === 'user' && caller.user.id === target.id;
  if (!self) assertUserManager(caller, 'update other users');
  assertMayManageTarget(caller, target);
  const changes: Partial<store.UserRow> = profilePatch(patch);
  if (patch.role !== undefined || patch.permissions !== undefined) {
    const oldRole = target.role as Role;
    const newRole = patch.role === undefined ? oldRole : checkRole(patch.role);
    const flags = patch.permissions === undefined ? undefined : checkPermissions(patch.permissions);
    assertMayGrant(caller, oldRole, newRole);
    changes.role = newRole;
    changes.permissions = JSON.stringify(nextPermissions(JSON.parse(target.permissions) as Permissions, oldRole, newRole, flags));
  }
  changes.updated_at = ctx.now();
  const changed = await store.updateUser(ctx.db, caller.tenantId, target.id, changes).catch((err) => conflict(ctx, caller.tenantId, undefined, err));
  if (changed === 0) throw notFound('User');
  const user = userOut({ ...target, ...changes });
  if (changes.role !== undefined) updateSessions(ctx, caller.tenantId, user);
  return user;
}

/**
 * Deletes the user (their tokens and memberships cascade; their messages stay). Rooms they owned
 * are handed on first (see store `successor`), so no group or channel is left without an owner;
 * rooms left with no members at all are deleted. DMs keep the remaining participant.
 */
async function remove(ctx: Ctx, caller: Caller, userId: string): Promise<void> {
  assertUserManager(caller, 'delete users');
  const target = await load(ctx, caller.tenantId, userId);
  assertMayManageTarget(caller, target);
  const tenantId = caller.tenantId;
  await ctx.change(async (trx, emit) => {
    const rooms = await allMemberRooms(trx, tenantId, target.id);
    for (const room of rooms) {
      if (room.my_role !== 'owner' || room.type === 'dm') continue;
      const heir = await successor(trx, tenantId, room.id, target.id);
      if (heir) await updateMemberRole(trx, tenantId, room.id, heir.user_id, 'owner');
    }
    if ((await store.deleteUser(trx, tenantId, target.id)) === 0) throw notFound('User');
    const emptied = await roomsWithoutMembers(trx, tenantId, rooms.map((r) => r.id));
    await deleteRooms(trx, tenantId, emptied.map((r) => r.id));
    const gone = new Set(emptied.map((r) => r.id));
    for (const room of rooms) {
      if (!gone.has(room.id)) emit({ type: 'member.left', tenant_id: tenantId, room_id: room.id, user_id: target.id });
    }
    for (const room of emptied) emit({ type: 'room.deleted', tenant_id: tenantId, room_id: room.id, room: roomSummary(room) });
  });
  endSessions(ctx, tenantId, { kind: 'user', user_id: target.id });
}

export function usersApi(ctx: Ctx): Domain['users'] {
  return {
    create: (caller, input) => create(ctx, caller, input),
    update: (caller, userId, patch) => update(ctx, caller, userId, patch),

    async list(caller, page) {
      const { limit, after } = readPage<[number, string]>(page, ['number', 'string']);
      const rows = await store.listUsers(ctx.db, caller.tenantId, after, limit + 1);
      return paginate(rows, limit, userOut, (r) => [r.created_at, r.id]);
    },

    async get(caller, userId) {
      return userOut(await load(ctx, caller.tenantId, userId));
    },

    remove: (caller, userId) => remove(ctx, caller, userId),

    async resolve(tenantId, userId) {
      if (typeof userId !== 'string' || !USER_ID_RE.test(userId)) return null;
      const row = await store.findUser(ctx.db, tenantId, userId);
      const expired = row?.expires_at != null && row.expires_at <= ctx.now();
      // A user banned tenant-wide acts as nobody until the ban ends.
      return row && !expired && !banOf(row, ctx.now()) ? userOut(row) : null;
    },
  };
}

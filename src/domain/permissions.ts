/** Who may do what: role defaults and the rules for changing roles and permissions. */
import { DomainError } from './errors.ts';
import type { Permissions, Role, User } from './shapes.ts';
import type { Caller, CallerUser } from './types.ts';
import { invalid, isPlainObject } from './validate.ts';

export const ROLES: readonly Role[] = ['superadmin', 'admin', 'moderator', 'staff', 'user', 'guest'];
const PERMISSION_KEYS = [
  'can_send_message',
  'can_receive_message',
  'can_delete_message',
  'can_edit_message',
  'can_archive_conversation',
] as const;

/** user/staff: send and receive; moderator and above: everything. */
export function defaultPermissions(role: Role): Permissions {
  const all = role === 'moderator' || role === 'admin' || role === 'superadmin';
  return {
    can_send_message: true,
    can_receive_message: true,
    can_delete_message: all,
    can_edit_message: all,
    can_archive_conversation: all,
  };
}

/** One frozen object per distinct set of permissions (at most 2^5), shared by every session that has it. */
const interned = new Map<number, Readonly<Permissions>>();

function internPermissions(p: Permissions): Readonly<Permissions> {
  if (p === null || typeof p !== 'object' || Object.keys(p).length !== PERMISSION_KEYS.length) return p; // not the known flags alone: kept as it is
  let bits = 0;
  for (let i = 0; i < PERMISSION_KEYS.length; i++) {
    const v = p[PERMISSION_KEYS[i]!];
    if (typeof v !== 'boolean') return p;
    if (v) bits |= 1 << i;
  }
  let shared = interned.get(bits);
  if (!shared) interned.set(bits, (shared = Object.freeze({ ...p })));
  return shared;
}

/**
 * What a long-lived session keeps of its user (CallerUser): the id, the role (the shared constant)
 * and a shared copy of its permissions, not the whole record.
 */
export function callerUser(user: Pick<User, 'id' | 'role' | 'permissions'>): CallerUser {
  const role = ROLES.find((r) => r === user.role) ?? user.role; // the constant, not a copy read from the database
  return { id: user.id, role, permissions: internPermissions(user.permissions) };
}

export function checkRole(value: unknown, field = 'role'): Role {
  if (!ROLES.includes(value as Role)) throw invalid(field, `must be one of ${ROLES.join(', ')}`);
  return value as Role;
}

export function checkPermissions(value: unknown, field = 'permissions'): Partial<Permissions> {
  if (!isPlainObject(value)) throw invalid(field, 'must be an object of boolean flags');
  const out: Partial<Permissions> = {};
  for (const [key, flag] of Object.entries(value)) {
    if (!(PERMISSION_KEYS as readonly string[]).includes(key)) throw invalid(`${field}.${key}`, 'is not a permission');
    if (typeof flag !== 'boolean') throw invalid(`${field}.${key}`, 'must be true or false');
    out[key as keyof Permissions] = flag;
  }
  return out;
}

export const isAdmin = (role: Role): boolean => role === 'admin' || role === 'superadmin';

/**
 * May `caller` set role/permissions on a user whose current role is `targetRole`
 * (undefined for a new user), giving them `newRole`? The tenant key may do anything;
 * admins may not touch superadmins nor make anyone superadmin. Throws AUTHORIZATION_ERROR.
 */
export function assertMayGrant(caller: Caller, targetRole: Role | undefined, newRole: Role | undefined): void {
  if (caller.kind === 'tenant') return;
  const mine = caller.user.role;
  if (!isAdmin(mine)) throw new DomainError('AUTHORIZATION_ERROR', 'Only the tenant key or an admin may set role or permissions');
  if (mine === 'superadmin') return;
  if (targetRole === 'superadmin' || newRole === 'superadmin') {
    throw new DomainError('AUTHORIZATION_ERROR', 'Only the tenant key or a superadmin may manage superadmins');
  }
}

/** May `caller` manage (create, edit, delete) other users at all? */
export function assertUserManager(caller: Caller, action: string): void {
  if (caller.kind === 'user' && !isAdmin(caller.user.role)) {
    throw new DomainError('AUTHORIZATION_ERROR', `Only the tenant key or an admin may ${action}`);
  }
}

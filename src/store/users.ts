/** Queries on `users`, always scoped by tenant. */
import type { Db } from './db.ts';

export interface UserRow {
  tenant_id: string;
  id: string;
  username: string;
  email: string | null;
  display_name: string | null;
  role: string;
  permissions: string; // JSON text
  created_at: number;
  updated_at: number;
  /** Guests only: when the user ends. */
  expires_at?: number | null;
  /** Tenant-wide ban (migration 0005): when, until (null = permanent), why, by whom. */
  banned_at?: number | null;
  banned_until?: number | null;
  ban_reason?: string | null;
  banned_by?: string | null;
}

export type UserPatch = Partial<Pick<UserRow, 'username' | 'email' | 'display_name' | 'role' | 'permissions' | 'updated_at'>>;

/** A users row as read (bigint columns as numbers). */
export const userRow = (r: UserRow): UserRow => ({
  ...r, created_at: Number(r.created_at), updated_at: Number(r.updated_at), expires_at: r.expires_at == null ? null : Number(r.expires_at),
});

export async function insertUser(db: Db, row: UserRow): Promise<void> {
  await db('users').insert(row);
}

export async function findUser(db: Db, tenantId: string, id: string): Promise<UserRow | undefined> {
  const row = await db<UserRow>('users').where({ tenant_id: tenantId, id }).first();
  return row && userRow(row);
}

export async function findUserByUsername(db: Db, tenantId: string, username: string): Promise<UserRow | undefined> {
  const row = await db<UserRow>('users').where({ tenant_id: tenantId, username }).first();
  return row && userRow(row);
}

/** Oldest first; keyset cursor on (created_at, id). */
export async function listUsers(db: Db, tenantId: string, after: [number, string] | null, limit: number): Promise<UserRow[]> {
  const q = db<UserRow>('users')
    .where({ tenant_id: tenantId })
    .orderBy([{ column: 'created_at' }, { column: 'id' }])
    .limit(limit);
  if (after) {
    const [createdAt, id] = after;
    q.andWhere((w) => w.where('created_at', '>', createdAt).orWhere((o) => o.where('created_at', createdAt).andWhere('id', '>', id)));
  }
  return (await q).map(userRow);
}

/** Which of `ids` exist in the tenant. */
export async function existingUserIds(db: Db, tenantId: string, ids: string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows = await db('users').where({ tenant_id: tenantId }).whereIn('id', ids).select('id');
  return new Set(rows.map((r: { id: string }) => r.id));
}

export async function updateUser(db: Db, tenantId: string, id: string, patch: UserPatch): Promise<number> {
  return db('users').where({ tenant_id: tenantId, id }).update(patch);
}

/** Foreign keys cascade to the user's tokens and memberships; their messages stay. */
export async function deleteUser(db: Db, tenantId: string, id: string): Promise<number> {
  return db('users').where({ tenant_id: tenantId, id }).delete();
}

/** Guests whose time is up (oldest first). */
export async function expiredGuests(db: Db, now: number, limit: number): Promise<{ tenant_id: string; id: string }[]> {
  return db('users').whereNotNull('expires_at').andWhere('expires_at', '<=', now).orderBy('expires_at').limit(limit).select('tenant_id', 'id');
}

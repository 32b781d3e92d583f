/** Queries on `user_passwords` and `refresh_tokens` (end-user accounts). */
import type { Db } from './db.ts';

export interface RefreshRow {
  id: string;
  tenant_id: string;
  user_id: string;
  family_id: string;
  token_hash: string;
  access_token_id: string | null;
  expires_at: number;
  used_at: number | null;
  revoked_at: number | null;
  created_at: number;
}

const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
const toRefresh = (r: RefreshRow): RefreshRow => ({
  ...r, expires_at: Number(r.expires_at), used_at: num(r.used_at), revoked_at: num(r.revoked_at), created_at: Number(r.created_at),
});

export async function insertPassword(db: Db, row: { tenant_id: string; user_id: string; hash: string; created_at: number }): Promise<void> {
  await db('user_passwords').insert(row);
}

export async function findPasswordHash(db: Db, tenantId: string, userId: string): Promise<string | undefined> {
  const row = await db('user_passwords').where({ tenant_id: tenantId, user_id: userId }).first('hash');
  return row?.hash;
}

export async function insertRefresh(db: Db, row: RefreshRow): Promise<void> {
  await db('refresh_tokens').insert(row);
}

export async function findRefreshByHash(db: Db, tokenHash: string): Promise<RefreshRow | undefined> {
  const row = await db<RefreshRow>('refresh_tokens').where({ token_hash: tokenHash }).first();
  return row && toRefresh(row);
}

/** Uses the refresh token up; 0 when someone else used (or revoked) it first. */
export async function markRefreshUsed(db: Db, id: string, now: number): Promise<number> {
  return db('refresh_tokens').where({ id }).whereNull('used_at').whereNull('revoked_at').update({ used_at: now });
}

/** Revokes a whole family; returns the user-token ids issued with it. */
export async function revokeFamily(db: Db, tenantId: string, familyId: string, now: number): Promise<string[]> {
  await db('refresh_tokens').where({ tenant_id: tenantId, family_id: familyId }).whereNull('revoked_at').update({ revoked_at: now });
  const rows = await db('refresh_tokens').where({ tenant_id: tenantId, family_id: familyId }).whereNotNull('access_token_id').select('access_token_id');
  return rows.map((r: { access_token_id: string }) => r.access_token_id);
}

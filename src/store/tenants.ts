/** Queries on `tenants`. A tenant's own id is its tenant_id. */
import type { Db } from './db.ts';

export interface TenantRow {
  id: string;
  name: string;
  api_key_hash: string;
  jwt_secret: string;
  settings: string; // JSON text
  created_at: number;
  updated_at: number;
}

const toRow = (r: TenantRow): TenantRow => ({ ...r, created_at: Number(r.created_at), updated_at: Number(r.updated_at) });

export async function insertTenant(db: Db, row: TenantRow): Promise<void> {
  await db('tenants').insert(row);
}

export async function findTenant(db: Db, id: string): Promise<TenantRow | undefined> {
  const row = await db<TenantRow>('tenants').where({ id }).first();
  return row && toRow(row);
}

export async function findTenantByKeyHash(db: Db, apiKeyHash: string): Promise<TenantRow | undefined> {
  const row = await db<TenantRow>('tenants').where({ api_key_hash: apiKeyHash }).first();
  return row && toRow(row);
}

/** Oldest first; keyset cursor on (created_at, id). */
export async function listTenants(db: Db, after: [number, string] | null, limit: number): Promise<TenantRow[]> {
  const q = db<TenantRow>('tenants').orderBy([{ column: 'created_at' }, { column: 'id' }]).limit(limit);
  if (after) {
    const [createdAt, id] = after;
    q.where((w) => w.where('created_at', '>', createdAt).orWhere((o) => o.where('created_at', createdAt).andWhere('id', '>', id)));
  }
  return (await q).map(toRow);
}

export async function updateTenant(
  db: Db,
  id: string,
  patch: Partial<Pick<TenantRow, 'name' | 'settings' | 'api_key_hash' | 'updated_at'>>,
): Promise<number> {
  return db('tenants').where({ id }).update(patch);
}

/** Foreign keys cascade to users, tokens, rooms, members and messages. */
export async function deleteTenant(db: Db, id: string): Promise<number> {
  return db('tenants').where({ id }).delete();
}

/** Queries on `publishable_keys` (browser-safe tenant keys, stored as SHA-256 of the secret). */
import type { Db } from './db.ts';

export interface PublishableKeyRow {
  id: string;
  tenant_id: string;
  key_hash: string;
  prefix: string;
  created_at: number;
  rotated_at: number | null;
}

const toRow = (r: PublishableKeyRow): PublishableKeyRow => ({
  ...r,
  created_at: Number(r.created_at),
  rotated_at: r.rotated_at === null ? null : Number(r.rotated_at),
});

export async function insertKey(db: Db, row: PublishableKeyRow): Promise<void> {
  await db('publishable_keys').insert(row);
}

export async function listKeys(db: Db, tenantId: string): Promise<PublishableKeyRow[]> {
  const rows = await db<PublishableKeyRow>('publishable_keys').where({ tenant_id: tenantId }).orderBy([{ column: 'created_at' }, { column: 'id' }]);
  return rows.map(toRow);
}

export async function findKey(db: Db, tenantId: string, id: string): Promise<PublishableKeyRow | undefined> {
  const row = await db<PublishableKeyRow>('publishable_keys').where({ tenant_id: tenantId, id }).first();
  return row && toRow(row);
}

export async function findKeyByHash(db: Db, keyHash: string): Promise<PublishableKeyRow | undefined> {
  const row = await db<PublishableKeyRow>('publishable_keys').where({ key_hash: keyHash }).first();
  return row && toRow(row);
}

export async function updateKey(db: Db, tenantId: string, id: string, patch: Pick<PublishableKeyRow, 'key_hash' | 'prefix' | 'rotated_at'>): Promise<number> {
  return db('publishable_keys').where({ tenant_id: tenantId, id }).update(patch);
}

export async function deleteKey(db: Db, tenantId: string, id: string): Promise<number> {
  return db('publishable_keys').where({ tenant_id: tenantId, id }).delete();
}

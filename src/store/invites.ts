/** Queries on `room_invites` (join links; code and password stored hashed). */
import type { Db } from './db.ts';

export interface InviteRow {
  id: string;
  tenant_id: string;
  room_id: string;
  code_hash: string;
  password_hash: string | null;
  expires_at: number | null;
  max_uses: number | null;
  uses: number;
  revoked_at: number | null;
  created_by: string;
  created_at: number;
}

const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
const toRow = (r: InviteRow): InviteRow => ({
  ...r, expires_at: num(r.expires_at), max_uses: num(r.max_uses), uses: Number(r.uses), revoked_at: num(r.revoked_at), created_at: Number(r.created_at),
});

export async function insertInvite(db: Db, row: InviteRow): Promise<void> {
  await db('room_invites').insert(row);
}

export async function listInvites(db: Db, tenantId: string, roomId: string, limit: number): Promise<InviteRow[]> {
  const rows = await db<InviteRow>('room_invites').where({ tenant_id: tenantId, room_id: roomId }).orderBy([{ column: 'created_at' }, { column: 'id' }]).limit(limit);
  return rows.map(toRow);
}

export async function findInviteByCode(db: Db, tenantId: string, codeHash: string): Promise<InviteRow | undefined> {
  const row = await db<InviteRow>('room_invites').where({ tenant_id: tenantId, code_hash: codeHash }).first();
  return row && toRow(row);
}

export async function revokeInvite(db: Db, tenantId: string, roomId: string, id: string, now: number): Promise<number> {
  return db('room_invites').where({ tenant_id: tenantId, room_id: roomId, id }).whereNull('revoked_at').update({ revoked_at: now });
}

/** Takes one use if any is left; 0 when the invite was used up (or revoked) meanwhile. */
export async function takeUse(db: Db, id: string): Promise<number> {
  return db('room_invites').where({ id }).whereNull('revoked_at')
    .andWhere((w) => w.whereNull('max_uses').orWhere('uses', '<', db.ref('max_uses')))
    .increment('uses', 1);
}

/** Gives a use back (the join failed after taking it). */
export async function returnUse(db: Db, id: string): Promise<void> {
  await db('room_invites').where({ id }).andWhere('uses', '>', 0).decrement('uses', 1);
}

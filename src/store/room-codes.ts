/** Queries on `room_codes`: one live emailed code per (room, email), stored hashed. */
import type { Db } from './db.ts';

export interface RoomCodeRow {
  tenant_id: string;
  room_id: string;
  email_hash: string;
  code_hash: string;
  failures: number;
  expires_at: number;
  sent_at: number;
}

const toRow = (r: RoomCodeRow): RoomCodeRow => ({ ...r, failures: Number(r.failures), expires_at: Number(r.expires_at), sent_at: Number(r.sent_at) });

/** Replaces any earlier code for the pair (a new mail makes the old code useless). */
export async function putCode(db: Db, row: RoomCodeRow): Promise<void> {
  await db.transaction(async (trx) => {
    await trx('room_codes').where({ room_id: row.room_id, email_hash: row.email_hash }).delete();
    await trx('room_codes').insert(row);
  });
}

export async function findCode(db: Db, tenantId: string, roomId: string, emailHash: string): Promise<RoomCodeRow | undefined> {
  const row = await db<RoomCodeRow>('room_codes').where({ tenant_id: tenantId, room_id: roomId, email_hash: emailHash }).first();
  return row && toRow(row);
}

/** Counts a wrong try; returns the failures now recorded. */
export async function addFailure(db: Db, roomId: string, emailHash: string): Promise<void> {
  await db('room_codes').where({ room_id: roomId, email_hash: emailHash }).increment('failures', 1);
}

/** Uses the code up; 0 when it was used (or replaced) meanwhile. */
export async function takeCode(db: Db, roomId: string, emailHash: string, codeHash: string): Promise<number> {
  return db('room_codes').where({ room_id: roomId, email_hash: emailHash, code_hash: codeHash }).delete();
}

export async function deleteCode(db: Db, roomId: string, emailHash: string): Promise<void> {
  await db('room_codes').where({ room_id: roomId, email_hash: emailHash }).delete();
}

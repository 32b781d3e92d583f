/** Queries on `room_members`, always scoped by tenant. */
import type { Db } from './db.ts';

export interface MemberRow {
  tenant_id: string;
  room_id: string;
  user_id: string;
  role: string;
  delivered_seq: number;
  read_seq: number;
  joined_at: number;
}

const toRow = (r: MemberRow): MemberRow => ({
  ...r,
  delivered_seq: Number(r.delivered_seq),
  read_seq: Number(r.read_seq),
  joined_at: Number(r.joined_at),
});

/** Rows per INSERT: SQLite refuses a compound SELECT of more than 500 terms, which knex uses for multi-row inserts. */
const INSERT_CHUNK = 200;

/** Inserts in chunks; give a transaction when the rows must land all or none. */
export async function insertMembers(db: Db, rows: MemberRow[]): Promise<void> {
  for (let i = 0; i < rows.length; i += INSERT_CHUNK) await db('room_members').insert(rows.slice(i, i + INSERT_CHUNK));
}

export async function findMember(db: Db, tenantId: string, roomId: string, userId: string): Promise<MemberRow | undefined> {
  const row = await db<MemberRow>('room_members').where({ tenant_id: tenantId, room_id: roomId, user_id: userId }).first();
  return row && toRow(row);
}

/** Members in join order; keyset cursor on (joined_at, user_id). */
export async function listMembers(
  db: Db, tenantId: string, roomId: string, page: { after?: [number, string] | null; limit?: number } = {},
): Promise<MemberRow[]> {
  const q = db<MemberRow>('room_members')
    .where({ tenant_id: tenantId, room_id: roomId })
    .orderBy([{ column: 'joined_at' }, { column: 'user_id' }]);
  if (page.after) {
    const [joinedAt, userId] = page.after;
    q.andWhere((w) => w.where('joined_at', '>', joinedAt).orWhere((o) => o.where('joined_at', joinedAt).andWhere('user_id', '>', userId)));
  }
  if (page.limit !== undefined) q.limit(page.limit);
  return (await q).map(toRow);
}

/**
 * Who takes over a room from `leavingUserId`: the longest-standing moderator, else the
 * longest-standing member (ties broken by user id, so every backend picks the same one).
 */
export async function successor(db: Db, tenantId: string, roomId: string, leavingUserId: string): Promise<MemberRow | undefined> {
  const first = (role?: string) => {
    const q = db<MemberRow>('room_members')
      .where({ tenant_id: tenantId, room_id: roomId })
      .andWhere('user_id', '<>', leavingUserId)
      .orderBy([{ column: 'joined_at' }, { column: 'user_id' }])
      .first();
    return role ? q.andWhere({ role }) : q;
  };
  const row = (await first('moderator')) ?? (await first());
  return row && toRow(row);
}

export async function countMembers(db: Db, tenantId: string, roomIds: string[]): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  if (roomIds.length === 0) return counts;
  const rows = await db('room_members')
    .where({ tenant_id: tenantId })
    .whereIn('room_id', roomIds)
    .groupBy('room_id')
    .select('room_id')
    .count({ n: '*' });
  for (const r of rows as { room_id: string; n: number | string }[]) counts.set(r.room_id, Number(r.n));
  return counts;
}

export async function updateMemberRole(db: Db, tenantId: string, roomId: string, userId: string, role: string): Promise<number> {
  return db('room_members').where({ tenant_id: tenantId, room_id: roomId, user_id: userId }).update({ role });
}

export async function deleteMember(db: Db, tenantId: string, roomId: string, userId: string): Promise<number> {
  return db('room_members').where({ tenant_id: tenantId, room_id: roomId, user_id: userId }).delete();
}

/**
 * Moves a cursor column forward to `seq` only if it is behind: the WHERE makes this atomic,
 * so out-of-order or concurrent acks can never move it back. Returns rows changed.
 */
export async function advanceCursor(
  db: Db,
  tenantId: string,
  roomId: string,
  userId: string,
  column: 'delivered_seq' | 'read_seq',
  seq: number,
): Promise<number> {
  return db('room_members')
    .where({ tenant_id: tenantId, room_id: roomId, user_id: userId })
    .andWhere(column, '<', seq)
    .update({ [column]: seq });
}

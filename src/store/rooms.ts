/** Queries on `rooms`, always scoped by tenant. */
import { driver, type Db } from './db.ts';
import { inList } from './in-list.ts';

export interface RoomRow {
  id: string;
  tenant_id: string;
  type: string;
  name: string | null;
  dm_key: string | null;
  created_by: string;
  last_seq: number;
  created_at: number;
  updated_at: number;
  archived_at: number | null;
  slow_mode_seconds: number;
}

/** A room as one member sees it: the room row plus that member's row. */
export interface MemberRoomRow extends RoomRow {
  my_role: string;
  delivered_seq: number;
  read_seq: number;
  muted_until: number | null;
}

export const toRoomRow = <T extends RoomRow>(r: T): T => ({
  ...r,
  last_seq: Number(r.last_seq),
  created_at: Number(r.created_at),
  updated_at: Number(r.updated_at),
  archived_at: r.archived_at === null || r.archived_at === undefined ? null : Number(r.archived_at),
  slow_mode_seconds: Number(r.slow_mode_seconds ?? 0),
});

export async function insertRoom(db: Db, row: RoomRow): Promise<void> {
  await db('rooms').insert(row);
}

export async function findRoom(db: Db, tenantId: string, id: string): Promise<RoomRow | undefined> {
  const row = await db<RoomRow>('rooms').where({ tenant_id: tenantId, id }).first();
  return row && toRoomRow(row);
}

export async function findDmRoom(db: Db, tenantId: string, dmKey: string): Promise<RoomRow | undefined> {
  const row = await db<RoomRow>('rooms').where({ tenant_id: tenantId, dm_key: dmKey }).first();
  return row && toRoomRow(row);
}

function memberRooms(db: Db, tenantId: string, userId: string) {
  return db('rooms')
    .join('room_members as rm', 'rm.room_id', 'rooms.id')
    .where('rooms.tenant_id', tenantId)
    .andWhere('rm.tenant_id', tenantId)
    .andWhere('rm.user_id', userId)
    .select('rooms.*', 'rm.role as my_role', 'rm.delivered_seq', 'rm.read_seq', 'rm.muted_until');
}

const toMemberRoom = (r: MemberRoomRow): MemberRoomRow => ({
  ...toRoomRow(r),
  delivered_seq: Number(r.delivered_seq),
  read_seq: Number(r.read_seq),
  muted_until: r.muted_until === null || r.muted_until === undefined ? null : Number(r.muted_until),
});

/** The room if `userId` is a member of it, with their cursor and role. */
export async function findMemberRoom(db: Db, tenantId: string, userId: string, roomId: string): Promise<MemberRoomRow | undefined> {
  const row = await memberRooms(db, tenantId, userId).andWhere('rooms.id', roomId).first();
  return row && toMemberRoom(row);
}

/** The member's rooms, latest activity first; keyset cursor on (updated_at, id) descending. */
export async function listMemberRooms(
  db: Db,
  tenantId: string,
  userId: string,
  before: [number, string] | null,
  limit: number,
  includeArchived = true,
): Promise<MemberRoomRow[]> {
  const q = memberRooms(db, tenantId, userId)
    .orderBy([{ column: 'rooms.updated_at', order: 'desc' }, { column: 'rooms.id', order: 'desc' }])
    .limit(limit);
  if (!includeArchived) q.whereNull('rooms.archived_at');
  if (before) {
    const [updatedAt, id] = before;
    q.andWhere((w) =>
      w.where('rooms.updated_at', '<', updatedAt).orWhere((o) => o.where('rooms.updated_at', updatedAt).andWhere('rooms.id', '<', id)),
    );
  }
  return (await q).map(toMemberRoom);
}

/** Every room the user belongs to, with their role (e.g. to hand rooms on when the user is deleted). */
export async function allMemberRooms(db: Db, tenantId: string, userId: string): Promise<MemberRoomRow[]> {
  return (await memberRooms(db, tenantId, userId).orderBy('rooms.id')).map(toMemberRoom);
}

/** Those of `ids` that have no members left. */
/** Which of `ids` are rooms of the tenant. */
export async function existingRoomIds(db: Db, tenantId: string, ids: string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows = await db('rooms').where('tenant_id', tenantId).whereIn('id', ids).select('id');
  return new Set(rows.map((r: { id: string }) => r.id));
}

export async function roomsWithoutMembers(db: Db, tenantId: string, ids: string[]): Promise<RoomRow[]> {
  if (ids.length === 0) return [];
  const rows = await db<RoomRow>('rooms')
    .where('rooms.tenant_id', tenantId)
    .whereIn('rooms.id', ids)
    .whereNotExists((q) => q.select('room_members.user_id').from('room_members').where('room_members.room_id', '=', db.ref('rooms.id')))
    .select('rooms.*');
  return rows.map(toRoomRow);
}

/** Every room of the user with their delivery cursor (for the WS node's subscribe + replay). */
export async function roomCursorsOfUser(
  db: Db,
  tenantId: string,
  userId: string,
): Promise<{ room_id: string; last_seq: number; delivered_seq: number }[]> {
  const rows = await memberRooms(db, tenantId, userId);
  return rows.map((r: MemberRoomRow) => ({ room_id: r.id, last_seq: Number(r.last_seq), delivered_seq: Number(r.delivered_seq) }));
}

/** roomCursorsOfUser for several users of one tenant in one query (the WS node batches session starts). */
export async function roomCursorsOfUsers(
  db: Db, tenantId: string, userIds: readonly string[],
): Promise<Map<string, { room_id: string; last_seq: number; delivered_seq: number }[]>> {
  const out = new Map<string, { room_id: string; last_seq: number; delivered_seq: number }[]>(userIds.map((id) => [id, []]));
  if (userIds.length === 0) return out;
  const rows = await db('room_members as rm')
    .join('rooms', 'rooms.id', 'rm.room_id')
    .where('rm.tenant_id', tenantId)
    .whereIn('rm.user_id', inList(userIds))
    .andWhere('rooms.tenant_id', tenantId)
    .select('rm.user_id', 'rm.room_id', 'rooms.last_seq', 'rm.delivered_seq') as { user_id: string; room_id: string; last_seq: number | string; delivered_seq: number | string }[];
  for (const r of rows) out.get(r.user_id)?.push({ room_id: r.room_id, last_seq: Number(r.last_seq), delivered_seq: Number(r.delivered_seq) });
  return out;
}

export async function updateRoom(
  db: Db, tenantId: string, id: string, patch: Partial<Pick<RoomRow, 'name' | 'updated_at' | 'archived_at' | 'slow_mode_seconds'>>,
): Promise<number> {
  return db('rooms').where({ tenant_id: tenantId, id }).update(patch);
}

/**
 * Who may send right now, checked by the seq-taking UPDATE itself (no read first): the room exists,
 * is not archived, is not in slow mode (unless the caller has already passed slow mode: `slowOk`),
 * and the sender is a member who is not muted. Bindings: tenant, room, slowOk (0/1), room, user,
 * tenant, now. When it matches no row, the domain reads the room once to say why.
 */
export const SEND_GATE = `tenant_id = ? AND id = ? AND archived_at IS NULL AND (slow_mode_seconds = 0 OR ? = 1)
  AND EXISTS (SELECT 1 FROM room_members WHERE room_members.room_id = ? AND room_members.user_id = ? AND room_members.tenant_id = ?
    AND (room_members.muted_until IS NULL OR room_members.muted_until <= ?))`;

/** Foreign keys cascade to the rooms' members and messages. */
export async function deleteRooms(db: Db, tenantId: string, ids: string[]): Promise<number> {
  return ids.length === 0 ? 0 : db('rooms').where({ tenant_id: tenantId }).whereIn('id', ids).delete();
}

/** Foreign keys cascade to the room's members and messages. */
export async function deleteRoom(db: Db, tenantId: string, id: string): Promise<number> {
  return db('rooms').where({ tenant_id: tenantId, id }).delete();
}

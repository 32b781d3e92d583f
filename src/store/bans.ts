/** Room bans and tenant-wide user bans, always scoped by tenant. */
import type { Db } from './db.ts';
import { isUniqueViolation } from './db.ts';

export interface RoomBanRow {
  tenant_id: string;
  room_id: string;
  user_id: string;
  until: number | null; // null = permanent
  reason: string | null;
  banned_by: string;
  created_at: number;
}

const toBan = (r: RoomBanRow): RoomBanRow => ({ ...r, until: r.until === null ? null : Number(r.until), created_at: Number(r.created_at) });

/** Bans in force at `now`: permanent, or ending later. */
const inForce = (now: number) => (w: any) => w.whereNull('until').orWhere('until', '>', now);

/** Inserts or replaces the user's ban from the room. */
export async function putRoomBan(db: Db, row: RoomBanRow): Promise<void> {
  try {
    await db('room_bans').insert(row);
  } catch (err) {
    if (!isUniqueViolation(err)) throw err;
    await db('room_bans').where({ tenant_id: row.tenant_id, room_id: row.room_id, user_id: row.user_id })
      .update({ until: row.until, reason: row.reason, banned_by: row.banned_by, created_at: row.created_at });
  }
}

export async function activeRoomBan(db: Db, tenantId: string, roomId: string, userId: string, now: number): Promise<RoomBanRow | undefined> {
  const row = await db<RoomBanRow>('room_bans').where({ tenant_id: tenantId, room_id: roomId, user_id: userId }).andWhere(inForce(now)).first();
  return row && toBan(row);
}

/** Bans in force, newest first; keyset cursor on (created_at, user_id) descending. */
export async function listRoomBans(
  db: Db, tenantId: string, roomId: string, now: number, after: [number, string] | null, limit: number,
): Promise<RoomBanRow[]> {
  const q = db<RoomBanRow>('room_bans')
    .where({ tenant_id: tenantId, room_id: roomId })
    .andWhere(inForce(now))
    .orderBy([{ column: 'created_at', order: 'desc' }, { column: 'user_id', order: 'desc' }])
    .limit(limit);
  if (after) {
    const [createdAt, userId] = after;
    q.andWhere((w) => w.where('created_at', '<', createdAt).orWhere((o) => o.where('created_at', createdAt).andWhere('user_id', '<', userId)));
  }
  return (await q).map(toBan);
}

/** Lifts a ban in force; 0 when there was none. */
export async function deleteRoomBan(db: Db, tenantId: string, roomId: string, userId: string, now: number): Promise<number> {
  return db('room_bans').where({ tenant_id: tenantId, room_id: roomId, user_id: userId }).andWhere(inForce(now)).delete();
}

export interface UserBanFields {
  banned_at: number | null;
  banned_until: number | null;
  ban_reason: string | null;
  banned_by: string | null;
}

export async function setUserBan(db: Db, tenantId: string, userId: string, ban: UserBanFields): Promise<number> {
  return db('users').where({ tenant_id: tenantId, id: userId }).update(ban);
}

/** The user's ban if one is in force at `now`. */
export async function activeUserBan(db: Db, tenantId: string, userId: string, now: number): Promise<UserBanFields | undefined> {
  const row = await db('users')
    .where({ tenant_id: tenantId, id: userId })
    .whereNotNull('banned_at')
    .andWhere((w) => w.whereNull('banned_until').orWhere('banned_until', '>', now))
    .first('banned_at', 'banned_until', 'ban_reason', 'banned_by');
  if (!row) return undefined;
  return {
    banned_at: Number(row.banned_at), banned_until: row.banned_until === null ? null : Number(row.banned_until),
    ban_reason: row.ban_reason, banned_by: row.banned_by,
  };
}

/** Mutes, slow mode, purges and owner counts: the moderation writes on members and messages. */
import { driver, type Db } from './db.ts';

/** Row locks until COMMIT on MySQL; SQLite's single writer already serialises the transaction. */
const locked = <Q extends { forUpdate(): Q }>(db: Db, q: Q): Q => (driver(db) === 'mysql' ? q.forUpdate() : q);

export async function setMute(db: Db, tenantId: string, roomId: string, userId: string, until: number | null): Promise<number> {
  return db('room_members').where({ tenant_id: tenantId, room_id: roomId, user_id: userId }).update({ muted_until: until });
}

/**
 * Slow mode: records `now` as the member's last send only if their previous one is at least
 * `intervalMs` old (one conditional UPDATE, so two concurrent sends cannot both pass). 1 = may send.
 */
export async function claimSendSlot(db: Db, tenantId: string, roomId: string, userId: string, now: number, intervalMs: number): Promise<number> {
  return db('room_members')
    .where({ tenant_id: tenantId, room_id: roomId, user_id: userId })
    .andWhere((w) => w.whereNull('last_sent_at').orWhere('last_sent_at', '<=', now - intervalMs))
    .update({ last_sent_at: now });
}

export async function lastSentAt(db: Db, tenantId: string, roomId: string, userId: string): Promise<number | null> {
  const row = await db('room_members').where({ tenant_id: tenantId, room_id: roomId, user_id: userId }).first('last_sent_at');
  return row?.last_sent_at == null ? null : Number(row.last_sent_at);
}

export interface PurgeScope {
  senderId?: string;
  from?: number; // created_at >= from
  to?: number; // created_at < to
}

function scoped(db: Db, tenantId: string, roomId: string, s: PurgeScope) {
  const q = db('messages').where({ tenant_id: tenantId, room_id: roomId }).whereNull('deleted_at');
  if (s.senderId !== undefined) q.andWhere('sender_id', s.senderId);
  if (s.from !== undefined) q.andWhere('created_at', '>=', s.from);
  if (s.to !== undefined) q.andWhere('created_at', '<', s.to);
  return q;
}

/** Turns every live message in scope into a tombstone (seq stays); returns their seqs, ascending. Call in a transaction. */
export async function purgeMessages(trx: Db, tenantId: string, roomId: string, scope: PurgeScope, now: number): Promise<number[]> {
  const rows = await locked(trx, scoped(trx, tenantId, roomId, scope).orderBy('seq').select('seq'));
  if (rows.length === 0) return [];
  await scoped(trx, tenantId, roomId, scope).update({ content: '', meta: null, deleted_at: now });
  return (rows as { seq: number | string }[]).map((r) => Number(r.seq));
}

/** The room's owners, locked for the rest of the transaction (MySQL; SQLite's writer lock does the same). */
export async function lockOwners(trx: Db, tenantId: string, roomId: string): Promise<string[]> {
  const rows = await locked(trx, trx('room_members').where({ tenant_id: tenantId, room_id: roomId, role: 'owner' }).select('user_id'));
  return (rows as { user_id: string }[]).map((r) => r.user_id);
}

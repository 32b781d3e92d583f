/** Queries on `messages`, always scoped by tenant. */
import type { Knex } from 'knex';
import { driver, inTransaction, type Db } from './db.ts';
import { takeFeedPosition } from './feed.ts';
import { takeSeqAsMember } from './rooms.ts';
import { appendOutbox } from './outbox.ts';
import { appendSqlite, type MessageToAppend, type SendEvents } from './sqlite-append.ts';

export interface MessageRow {
  pk: number; // global autoincrement (on SQLite also the feed position: see feed.ts)
  id: string;
  tenant_id: string;
  room_id: string;
  seq: number;
  sender_id: string;
  content: string;
  meta: string | null; // JSON text
  client_msg_id: string | null;
  body_hash: string | null;
  created_at: number;
  edited_at: number | null;
  deleted_at: number | null;
}

export type NewMessageRow = Omit<MessageRow, 'pk'>;
export type MessagePatch = Partial<Pick<MessageRow, 'content' | 'meta' | 'edited_at' | 'deleted_at'>>;

const num = (v: number | null) => (v === null ? null : Number(v));

export const toRow = (r: MessageRow): MessageRow => ({
  ...r,
  pk: Number(r.pk),
  seq: Number(r.seq),
  created_at: Number(r.created_at),
  edited_at: num(r.edited_at),
  deleted_at: num(r.deleted_at),
});

/** `feed_pos`: the MySQL feed position (feed.ts); a MySQL row without one never shows in the feed. */
export async function insertMessage(db: Db, row: NewMessageRow & { feed_pos?: number }): Promise<void> {
  await db('messages').insert(row);
}

export type { MessageToAppend, SendEvents };

/**
 * The durable send: stores `msg` as its room's next seq (1, 2, 3 … without gaps) if its sender is
 * a member, in one transaction that also bumps the room's last_seq and updated_at. Resolves after
 * COMMIT with the stored row (created_at = `now()` inside the transaction), or null when the room
 * is gone or the sender is not (or no longer) in it: nothing stored. Rejects with the driver's
 * UNIQUE violation when the sender already used this client_msg_id in the room.
 * SQLite: group-committed with concurrent sends (sqlite-append.ts). MySQL: a transaction of its own
 * (UPDATE rooms with the member check, INSERT), re-run on deadlocks.
 * `events` (the outbox hook): the events of the stored row, written to the outbox in its transaction.
 */
export function appendMessage(knex: Knex, msg: MessageToAppend, now: () => number, events?: SendEvents): Promise<NewMessageRow | null> {
  if (driver(knex) === 'sqlite') return appendSqlite(knex, msg, now, events);
  return inTransaction(knex, async (trx) => {
    const createdAt = now();
    const seq = await takeSeqAsMember(trx, msg.tenant_id, msg.room_id, msg.sender_id, createdAt);
    if (seq === 0) return null;
    const row: NewMessageRow = { ...msg, seq, created_at: createdAt };
    await insertMessage(trx, { ...row, feed_pos: await takeFeedPosition(trx, msg.tenant_id) });
    if (events) await appendOutbox(trx, events(row), createdAt); // outbox hook (issue 10)
    return row;
  });
}

export async function findMessage(db: Db, tenantId: string, roomId: string, id: string): Promise<MessageRow | undefined> {
  const row = await db<MessageRow>('messages').where({ tenant_id: tenantId, room_id: roomId, id }).first();
  return row && toRow(row);
}

/** The message a sender already stored under an idempotency key, if any. */
export async function findByClientKey(
  db: Db,
  tenantId: string,
  roomId: string,
  senderId: string,
  clientMsgId: string,
): Promise<MessageRow | undefined> {
  const row = await db<MessageRow>('messages')
    .where({ tenant_id: tenantId, room_id: roomId, sender_id: senderId, client_msg_id: clientMsgId })
    .first();
  return row && toRow(row);
}

export interface SeqRange {
  afterSeq?: number; // exclusive
  beforeSeq?: number; // exclusive
  limit: number;
  newestFirst: boolean;
}

/** A window of a room's messages by seq, ordered as asked. */
export async function listRoomMessages(db: Db, tenantId: string, roomId: string, r: SeqRange): Promise<MessageRow[]> {
  const q = db<MessageRow>('messages')
    .where({ tenant_id: tenantId, room_id: roomId })
    .orderBy('seq', r.newestFirst ? 'desc' : 'asc')
    .limit(r.limit);
  if (r.afterSeq !== undefined) q.andWhere('seq', '>', r.afterSeq);
  if (r.beforeSeq !== undefined) q.andWhere('seq', '<', r.beforeSeq);
  return (await q).map(toRow);
}

/**
 * Changes a message that is not deleted (a tombstone is final: a racing edit or second delete
 * matches no row). Returns rows changed.
 */
export async function updateLiveMessage(db: Db, tenantId: string, id: string, patch: MessagePatch): Promise<number> {
  return db('messages').where({ tenant_id: tenantId, id }).whereNull('deleted_at').update(patch);
}

/** Messages in the given rooms by (room, seq) pairs, e.g. each room's newest. */
export async function findBySeqs(db: Db, tenantId: string, pairs: { room_id: string; seq: number }[]): Promise<MessageRow[]> {
  if (pairs.length === 0) return [];
  const rows = await db<MessageRow>('messages')
    .where({ tenant_id: tenantId })
    .andWhere((w) => {
      for (const p of pairs) w.orWhere((o) => o.where('room_id', p.room_id).andWhere('seq', p.seq));
    });
  return rows.map(toRow);
}

/** Per room: messages after the user's read cursor, not sent by them, not deleted. */
export async function unreadCounts(db: Db, tenantId: string, userId: string, roomIds: string[]): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  if (roomIds.length === 0) return counts;
  const rows = await db('messages as m')
    .join('room_members as rm', (j) => j.on('rm.room_id', '=', 'm.room_id').andOn('m.seq', '>', 'rm.read_seq'))
    .where('m.tenant_id', tenantId)
    .andWhere('rm.tenant_id', tenantId)
    .andWhere('rm.user_id', userId)
    .whereIn('m.room_id', roomIds)
    .andWhere('m.sender_id', '<>', userId)
    .whereNull('m.deleted_at')
    .groupBy('m.room_id')
    .select('m.room_id')
    .count({ n: '*' });
  for (const r of rows as { room_id: string; n: number | string }[]) counts.set(r.room_id, Number(r.n));
  return counts;
}

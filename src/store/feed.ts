/**
 * The cross-room feed's position (GET /v1/messages, `next_cursor`): an order in which messages
 * become visible, so a poller that resumes after position P can never later find a message
 * committed at or below P. The insert id is not that order on MySQL/MariaDB: two sends to
 * different rooms run concurrently and may commit in the opposite order of their ids.
 *
 *   SQLite: one writer at a time (per file, across processes) takes the ids inside its write
 *           lock, so the id (`pk`) is commit-ordered and is the position.
 *   MySQL:  each tenant has a counter row (`feed_positions`); a send batch takes the next values
 *           right before its INSERT (mysql-batch.ts) and holds the row's lock until COMMIT, so the next
 *           send of the tenant gets a larger position only after this one is visible. This
 *           orders a tenant's sends across rooms at their commit (rooms already order their own).
 */
import { driver, type Db } from './db.ts';
import { toRow, type MessageRow } from './messages.ts';

export type FeedRow = MessageRow & { position: number };

/** Messages after `afterPosition` in any room the user belongs to, in feed order. */
export async function listFeed(db: Db, tenantId: string, userId: string, afterPosition: number, limit: number): Promise<FeedRow[]> {
  const column = driver(db) === 'mysql' ? 'm.feed_pos' : 'm.pk';
  const rows = await db('messages as m')
    .join('room_members as rm', 'rm.room_id', 'm.room_id')
    .where('m.tenant_id', tenantId)
    .andWhere('rm.tenant_id', tenantId)
    .andWhere('rm.user_id', userId)
    .andWhere(column, '>', afterPosition)
    .orderBy(column, 'asc')
    .limit(limit)
    .select('m.*', { position: column });
  return rows.map((r: FeedRow) => ({ ...toRow(r), position: Number(r.position) }));
}

/** Queries on `messages`, always scoped by tenant. */
import type { Knex } from 'knex';
import { MAX_BATCH, type AfterInsert, type AppendRequest, type AppendResult, type MessageToAppend, type NewMessageRow, type SendEvents } from './append-types.ts';
import { driver, sqliteFile, type Db } from './db.ts';
import { batchStatsFor } from './batch-stats.ts';
import { GroupCommit, type Outcome } from './group-commit.ts';
import { runMysqlBatch } from './mysql-append.ts';
import { runSqliteBatch } from './sqlite-append.ts';
import { walState } from './wal-sync.ts';

/** A stored message: what the send path writes (NewMessageRow) plus its global autoincrement. */
export interface MessageRow extends NewMessageRow {
  pk: number; // global autoincrement (on SQLite also the feed position: see feed.ts)
}

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

export type { AfterInsert, AppendRequest, AppendResult, MessageToAppend, NewMessageRow, Outcome, SendEvents };

/**
 * Batches whose transaction is under way at once, per process. MySQL: one; a batch holds its rooms'
 * and tenant's locks to COMMIT, whose log flush is inside it. SQLite: two, of which one is written
 * while the other waits for its WAL sync (off the loop, wal-sync.ts). The group commit writes
 * batches one at a time in cut order, so sends commit in submit order (which keeps a WebSocket
 * connection's pipelined sends in frame order: ws/dispatch.ts submits a run before the run before
 * it is answered), answers them in that order, and starts the second only when a full batch is
 * queued. Otherwise the loop sat idle through every sync at saturation (500 rooms x 10: 12% of it,
 * 2.6 ms per sync at p50, load/README § "Issue 12, twenty-first round"), while below saturation a
 * second batch in flight made more, smaller batches, each a publish per room and so a socket write
 * per member (one room of 1,000: 6% more CPU per delivery, § "Issue 12, fifth round").
 */
const IN_FLIGHT = { sqlite: 2, mysql: 1 } as const;
const committers = new WeakMap<Knex, GroupCommit<AppendRequest, AppendResult>>();

function committerFor(knex: Knex): GroupCommit<AppendRequest, AppendResult> {
  let c = committers.get(knex);
  if (!c) {
    const backend = driver(knex);
    const run = backend === 'sqlite' ? runSqliteBatch : runMysqlBatch;
    c = new GroupCommit((batch, written) => run(knex, batch, written), MAX_BATCH, IN_FLIGHT[backend], batchStatsFor(knex));
    committers.set(knex, c);
  }
  return c;
}

/**
 * Sends queued behind the send batch committing now on this database handle (ops: a queue that
 * keeps growing means the store, not the node's JavaScript, is what holds sends back).
 */
export function sendsWaiting(knex: Knex): number {
  return committers.get(knex)?.waiting ?? 0;
}

/**
 * SQLite's WAL as its checkpoint worker last saw it (ops: pages stay below a few thousand, and
 * restarts count the send batches that waited for one); undefined on MySQL.
 */
export function walStateOf(knex: Knex): { pages: number; restarts: number } | undefined {
  if (driver(knex) !== 'sqlite') return undefined;
  return walState(sqliteFile(knex));
}

/**
 * The durable send: stores `msg` as its room's next seq (1, 2, 3 … without gaps) if its sender is
 * a member allowed to send now (rooms.ts SEND_GATE: not archived, muted or held by slow mode), in one transaction that also bumps the room's last_seq and updated_at, shared with
 * whatever other sends arrived in the same event-loop turn or while the previous batch committed
 * (group-commit.ts; sqlite-append.ts, mysql-append.ts). `afterInsert` runs inside that transaction
 * for this send only (see AfterInsert). Resolves after COMMIT with the stored row (created_at =
 * `now()` inside the transaction), or null when the room is gone or the sender is not (or no
 * longer) in it: nothing stored. Rejects with a duplicate-key error (isUniqueViolation) when the
 * sender already used this client_msg_id in the room. `events` (the outbox hook): the send's events,
 * written to the outbox in the same transaction. On MySQL the send also takes its cross-room feed
 * position there (feed.ts). The send is refused (null) unless the sender may send now: SEND_GATE
 * in rooms.ts (archived, muted, slow mode unless `slowOk`); the domain then says why. Sends
 * with the same `together` token that wait for a batch at the same time share one (in submit order: group-commit.ts).
 */
export function appendMessage(
  knex: Knex, msg: MessageToAppend, now: () => number, afterInsert?: AfterInsert, events?: SendEvents, slowOk = false, together?: object,
): Promise<NewMessageRow | null> {
  return committerFor(knex).submit({ msg, now, afterInsert, events, slowOk }, together);
}

/**
 * Several sends at once (a WebSocket connection's run: ws/dispatch.ts), stored consecutively in one
 * batch as appendMessage would store each, and answered together: each one's outcome in order (its
 * row, null when refused, or its error). Never rejects.
 */
export function appendMessages(knex: Knex, requests: AppendRequest[], together?: object): Promise<Outcome<AppendResult>[]> {
  return committerFor(knex).submitMany(requests, together);
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


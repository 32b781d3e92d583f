/**
 * The statements of SQLite's send batch, on a raw better-sqlite3 connection inside a transaction
 * its caller opened: on the event loop's thread (sqlite-append.ts) or on the send writer's thread
 * (sqlite-writer-thread.ts). Nothing here loads a driver or knex, so the writer thread stays small.
 *
 * On the common path (no hooks, nothing fails: storeRuns) a run of consecutive sends by one sender
 * into one room (a connection's pipelined sends, which group-commit.ts keeps together) takes its
 * seqs with one UPDATE of the room (last_seq + k) and shares one created_at: the room row, its
 * activity index entry and the membership check are written and read once per run, not once per
 * send. When one of its sends fails (a repeated idempotency key hits the UNIQUE index), the caller
 * rolls the batch back and runs it again with each send in its own SAVEPOINT (storeEach), so that
 * send alone gets the error and the others commit.
 */
import type { Knex } from 'knex';
import type { AppendRequest, AppendResult, NewMessageRow } from './append-types.ts';
import { isRetryable } from './driver-errors.ts';
import type { Outcome } from './group-commit.ts';
import type { RawSqlite, Stmt } from './sqlite-raw.ts';

/**
 * Who may send right now, checked by the seq-taking UPDATE itself (no read first): the room exists,
 * is not archived, is not in slow mode (unless the caller has already passed slow mode: `slowOk`),
 * and the sender is a member who is not muted. Bindings: tenant, room, slowOk (0/1), room, user,
 * tenant, now. When it matches no row, the domain reads the room once to say why.
 */
export const SEND_GATE = `tenant_id = ? AND id = ? AND archived_at IS NULL AND (slow_mode_seconds = 0 OR ? = 1)
  AND EXISTS (SELECT 1 FROM room_members WHERE room_members.room_id = ? AND room_members.user_id = ? AND room_members.tenant_id = ?
    AND (room_members.muted_until IS NULL OR room_members.muted_until <= ?))`;

/** Takes the room's next `k` seqs (the first parameter) if the sender may send now; returns the last of them. */
export const BUMP = `UPDATE rooms SET last_seq = last_seq + ?, updated_at = ? WHERE ${SEND_GATE} RETURNING last_seq`;
export const INSERT = `INSERT INTO messages (id, tenant_id, room_id, seq, sender_id, content, meta, client_msg_id, body_hash, created_at, edited_at, deleted_at)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;

/** Writes a stored send's outbox events in its transaction (sqlite-append.ts); the writer thread takes no send that has any. */
export type SendOutbox = (r: AppendRequest, row: NewMessageRow, createdAt: number) => void;

/**
 * The common path, without savepoints (only without hooks): runs of consecutive sends by one sender
 * into one room take their seqs with one UPDATE. The first send that fails stops the batch with
 * its error as the last outcome, and the caller must roll the whole transaction back. Lock
 * conflicts are thrown (the caller runs the whole batch again).
 */
export function storeRuns(conn: RawSqlite, batch: AppendRequest[], outbox?: SendOutbox): Outcome<AppendResult>[] {
  const bump = conn.prepare(BUMP);
  const insert = conn.prepare(INSERT);
  const outcomes: Outcome<AppendResult>[] = [];
  for (let i = 0; i < batch.length;) {
    const { msg: m, now, slowOk } = batch[i]!;
    let end = i + 1;
    while (end < batch.length && sameRun(batch[end]!, m, slowOk)) end++;
    try {
      const createdAt = now();
      let seq = takeSeqs(bump, m, createdAt, slowOk, end - i);
      for (; i < end; i++) {
        outcomes.push({ value: seq === null ? null : storeOne(insert, outbox, batch[i]!, ++seq, createdAt) });
      }
    } catch (err) {
      if (isRetryable(err)) throw err;
      outcomes.push({ err });
      return outcomes;
    }
  }
  return outcomes;
}

/**
 * Each send in its own savepoint, with its afterInsert hook (which writes through `trx`, a knex
 * transaction on this same connection); throws (for the caller to roll back) only on lock conflicts.
 */
export async function storeEach(
  conn: RawSqlite, batch: AppendRequest[], outbox?: SendOutbox, trx?: Knex.Transaction,
): Promise<Outcome<AppendResult>[]> {
  const sql = (text: string) => conn.prepare(text);
  const bump = conn.prepare(BUMP);
  const insert = conn.prepare(INSERT);
  const outcomes: Outcome<AppendResult>[] = [];
  for (const r of batch) {
    const createdAt = r.now();
    sql('SAVEPOINT send').run();
    try {
      const seq = takeSeqs(bump, r.msg, createdAt, r.slowOk, 1);
      const row = seq === null ? null : storeOne(insert, outbox, r, seq + 1, createdAt);
      if (row && r.afterInsert) await r.afterInsert(trx!, row);
      sql('RELEASE send').run();
      outcomes.push({ value: row });
    } catch (err) {
      sql('ROLLBACK TO send').run();
      sql('RELEASE send').run();
      if (isRetryable(err)) throw err;
      outcomes.push({ err });
    }
  }
  return outcomes;
}

/** The next send continues the run: same tenant, room and sender, and the same slow-mode pass. */
const sameRun = (r: AppendRequest, m: AppendRequest['msg'], slowOk?: boolean) =>
  r.msg.room_id === m.room_id && r.msg.sender_id === m.sender_id && r.msg.tenant_id === m.tenant_id && !r.slowOk === !slowOk;

/** Takes `k` seqs of the room if the sender may send now: the seq before the first of them, or null (refused). */
function takeSeqs(bump: Stmt, m: AppendRequest['msg'], createdAt: number, slowOk: boolean | undefined, k: number): number | null {
  const taken = bump.get(k, createdAt, m.tenant_id, m.room_id, slowOk ? 1 : 0, m.room_id, m.sender_id, m.tenant_id, createdAt) as { last_seq: number } | undefined;
  return taken ? Number(taken.last_seq) - k : null;
}

/** One send's rows, once its seq is taken: the message and the outbox events its tenant's endpoints want. */
function storeOne(insert: Stmt, outbox: SendOutbox | undefined, r: AppendRequest, seq: number, createdAt: number): NewMessageRow {
  const row: NewMessageRow = { ...r.msg, seq, created_at: createdAt };
  insert.run(row.id, row.tenant_id, row.room_id, row.seq, row.sender_id, row.content, row.meta, row.client_msg_id,
    row.body_hash, row.created_at, row.edited_at, row.deleted_at);
  // The outbox hook: the send's events, in the same transaction (and savepoint), so they commit with it.
  outbox?.(r, row, createdAt);
  return row;
}

/** Whether a tenant has any webhook endpoint (then its sends' outbox events are written on the loop: sqlite-append.ts). */
export const ANY_ENDPOINT = 'SELECT 1 FROM webhooks WHERE tenant_id = ? LIMIT 1';

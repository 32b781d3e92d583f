/**
 * Group commit for message sends on SQLite.
 *
 * SQLite has one writer at a time and knex gives a process one connection, so sends already run
 * one transaction after another; most of each one's cost is the transaction itself (knex's
 * transaction machinery, BEGIN, and COMMIT writing the changed pages to the WAL). Here concurrent
 * sends are queued and stored together: whoever arrives while the connection is busy joins the
 * next transaction. Each send runs in its own SAVEPOINT, so one that fails (a repeated
 * idempotency key hits the UNIQUE index, the sender is not a member) is rolled back alone and
 * gets its own answer, while the others in the batch commit. Every send is answered only after
 * its batch's COMMIT (or failure), so nothing is acknowledged that is not durable.
 *
 * The batch runs synchronously on the raw better-sqlite3 connection, taken from knex's pool
 * like any knex query, so it never interleaves with a knex transaction. Statements are the
 * cached prepared ones (see cachePreparedStatements in db.ts).
 */
import type { Knex } from 'knex';
import { isRetryable } from './db.ts';
import type { NewMessageRow } from './messages.ts';
import { OUTBOX_INSERT_SQL, outboxParams, outboxRow, type OutboxEvent } from './outbox.ts';

/** A message to store; the seq and created_at are assigned when its batch runs. */
export type MessageToAppend = Omit<NewMessageRow, 'seq' | 'created_at'>;

/** The outbox hook: the events a stored send writes to the outbox inside its savepoint. */
export type SendEvents = (row: NewMessageRow) => OutboxEvent[];

interface Stmt {
  run(...params: unknown[]): { changes: number };
  get(...params: unknown[]): unknown;
}
interface RawSqlite {
  prepare(sql: string): Stmt;
  readonly inTransaction: boolean;
}

interface Pending {
  msg: MessageToAppend;
  now: () => number;
  events?: SendEvents;
  attempts: number;
  resolve(row: NewMessageRow | null): void;
  reject(err: unknown): void;
}

type Outcome = { row: NewMessageRow | null } | { err: unknown };

/** Bounds how long one batch holds the write lock and how late its first send is answered. */
const MAX_BATCH = 256;
/** Whole-batch attempts when the database is locked by another process (as inTransaction does). */
const MAX_ATTEMPTS = 6;

const BUMP = `UPDATE rooms SET last_seq = last_seq + 1, updated_at = ? WHERE tenant_id = ? AND id = ?
  AND EXISTS (SELECT 1 FROM room_members WHERE room_members.room_id = ? AND room_members.user_id = ? AND room_members.tenant_id = ?)
  RETURNING last_seq`;
const INSERT = `INSERT INTO messages (id, tenant_id, room_id, seq, sender_id, content, meta, client_msg_id, body_hash, created_at, edited_at, deleted_at)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;

class SqliteAppender {
  private queue: Pending[] = [];
  private flushing = false;

  constructor(private readonly knex: Knex) {}

  append(msg: MessageToAppend, now: () => number, events?: SendEvents): Promise<NewMessageRow | null> {
    return new Promise((resolve, reject) => {
      this.queue.push({ msg, now, events, attempts: 0, resolve, reject });
      if (!this.flushing) void this.flush();
    });
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    try {
      while (this.queue.length > 0) {
        let conn: RawSqlite;
        try {
          conn = (await this.knex.client.acquireConnection()) as RawSqlite;
        } catch (err) {
          for (const p of this.queue.splice(0)) p.reject(err); // e.g. the database was closed
          return;
        }
        // Everything that queued up while we waited for the connection goes into this batch.
        const batch = this.queue.splice(0, MAX_BATCH);
        let outcomes: Outcome[] | undefined;
        let batchErr: unknown;
        try {
          outcomes = runBatch(conn, batch);
        } catch (err) {
          batchErr = err;
        } finally {
          await this.knex.client.releaseConnection(conn);
        }
        if (outcomes) {
          batch.forEach((p, i) => {
            const o = outcomes[i]!;
            if ('err' in o) p.reject(o.err);
            else p.resolve(o.row);
          });
          continue;
        }
        // Nothing of the batch was stored. Locked by another process: try again after a jittered
        // pause (ahead of later arrivals); anything else: every send in it fails with the error.
        const again = batch.filter((p) => ++p.attempts < MAX_ATTEMPTS && isRetryable(batchErr));
        for (const p of batch) if (!again.includes(p)) p.reject(batchErr);
        if (again.length > 0) {
          this.queue.unshift(...again);
          await new Promise((r) => setTimeout(r, Math.random() * 5 * again[0]!.attempts));
        }
      }
    } finally {
      this.flushing = false;
    }
  }
}

/** One transaction for the whole batch; throws (having rolled back) if the transaction itself fails. */
function runBatch(conn: RawSqlite, batch: Pending[]): Outcome[] {
  if (conn.inTransaction) throw new Error('sqlite append: the pooled connection is inside a transaction');
  const sql = (text: string) => conn.prepare(text);
  const outcomes: Outcome[] = [];
  // IMMEDIATE: take the write lock now (waiting busy_timeout for other processes), not mid-batch.
  sql('BEGIN IMMEDIATE').run();
  try {
    const bump = sql(BUMP);
    const insert = sql(INSERT);
    for (const { msg: m, now, events } of batch) {
      const createdAt = now();
      sql('SAVEPOINT send').run();
      try {
        const taken = bump.get(createdAt, m.tenant_id, m.room_id, m.room_id, m.sender_id, m.tenant_id) as { last_seq: number } | undefined;
        let row: NewMessageRow | null = null;
        if (taken) {
          row = { ...m, seq: Number(taken.last_seq), created_at: createdAt };
          insert.run(row.id, row.tenant_id, row.room_id, row.seq, row.sender_id, row.content, row.meta, row.client_msg_id,
            row.body_hash, row.created_at, row.edited_at, row.deleted_at);
          // Outbox hook (issue 10): the send's events, in its savepoint, so they commit with it.
          if (events) for (const evt of events(row)) sql(OUTBOX_INSERT_SQL).run(...outboxParams(outboxRow(evt, createdAt)));
        }
        sql('RELEASE send').run();
        outcomes.push({ row });
      } catch (err) {
        sql('ROLLBACK TO send').run();
        sql('RELEASE send').run();
        outcomes.push({ err });
      }
    }
    sql('COMMIT').run();
  } catch (err) {
    if (conn.inTransaction) sql('ROLLBACK').run();
    throw err;
  }
  return outcomes;
}

const appenders = new WeakMap<Knex, SqliteAppender>();

/**
 * Stores `msg` as its room's next seq if its sender is a member, in a transaction shared with
 * whatever other sends are waiting. Resolves after COMMIT with the stored row, or null when the
 * room is gone or the sender is not in it (nothing stored). Rejects with the driver's error,
 * e.g. a UNIQUE violation when the sender already used this client_msg_id in the room.
 */
export function appendSqlite(knex: Knex, msg: MessageToAppend, now: () => number, events?: SendEvents): Promise<NewMessageRow | null> {
  let appender = appenders.get(knex);
  if (!appender) appenders.set(knex, (appender = new SqliteAppender(knex)));
  return appender.append(msg, now, events);
}

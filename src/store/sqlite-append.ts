/**
 * The batched send transaction on SQLite (queued by group-commit.ts).
 *
 * SQLite has one writer and knex gives a process one connection; most of a lone send's cost is
 * its transaction (BEGIN, and COMMIT writing the changed pages to the WAL and, with
 * synchronous=FULL, syncing it). Here a whole batch shares one transaction. A send that fails (a
 * repeated idempotency key hits the UNIQUE index, its hook throws) is rolled back alone and gets
 * its own answer while the others commit: each send runs in its own SAVEPOINT, except on the
 * common path (no hooks, nothing fails) where the batch first runs without them and is only run
 * again with them if one of its sends failed.
 *
 * The statements run on the raw better-sqlite3 connection, taken from knex's pool like any knex
 * query (so a batch never interleaves with a knex transaction), through the cached prepared
 * statements (cachePreparedStatements in db.ts). Without hooks the batch is one synchronous
 * BEGIN IMMEDIATE … COMMIT, and with SQLITE_SYNCHRONOUS=FULL its WAL sync runs off the event loop
 * before the sends are answered (wal-sync.ts); when a send carries an afterInsert hook the batch
 * runs in a knex transaction on that same connection (FULL's in-loop sync) so the hook can write
 * through it.
 *
 * Each transaction first reads the batch's tenants' webhook endpoints (once per tenant: the outbox
 * gate, outbox.ts) under the writer's lock, and writes a send's events to the outbox only if an
 * endpoint would receive them; most tenants have none, and their sends write no outbox row.
 */
import type { Knex } from 'knex';
import { isRetryable } from './db.ts';
import { SEND_GATE } from './rooms.ts';
import { backoff, MAX_ATTEMPTS, type AppendRequest, type AppendResult, type NewMessageRow } from './append-types.ts';
import type { Outcome } from './group-commit.ts';
import { afterSendBatch, syncWal } from './wal-sync.ts';
import { GATE_SQL, OUTBOX_INSERT_SQL, OutboxGate, outboxParams, outboxRow, type GateRow } from './outbox.ts';

interface Stmt {
  run(...params: unknown[]): { changes: number };
  get(...params: unknown[]): unknown;
  all(...params: unknown[]): unknown[];
}
interface RawSqlite {
  prepare(sql: string): Stmt;
  readonly inTransaction: boolean;
  readonly memory: boolean;
  /** The database file (better-sqlite3's Database#name). */
  readonly name: string;
  /** Set by openSqlite (db.ts): acknowledged sends must be on disk (SQLITE_SYNCHRONOUS=FULL). */
  durableSends?: boolean;
  pragma(source: string): unknown;
}

export const BUMP = `UPDATE rooms SET last_seq = last_seq + 1, updated_at = ? WHERE ${SEND_GATE} RETURNING last_seq`;
export const INSERT = `INSERT INTO messages (id, tenant_id, room_id, seq, sender_id, content, meta, client_msg_id, body_hash, created_at, edited_at, deleted_at)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;

/** Stores a batch in one transaction; retried whole while the database is locked by another process. */
export async function runSqliteBatch(knex: Knex, batch: AppendRequest[]): Promise<Outcome<AppendResult>[]> {
  for (let attempt = 1; ; attempt++) {
    try {
      return batch.some((r) => r.afterInsert) ? await viaKnex(knex, batch) : await viaRaw(knex, batch);
    } catch (err) {
      if (attempt >= MAX_ATTEMPTS || !isRetryable(err)) throw err;
      await backoff(attempt);
    }
  }
}

async function viaRaw(knex: Knex, batch: AppendRequest[]): Promise<Outcome<AppendResult>[]> {
  const conn = (await knex.client.acquireConnection()) as RawSqlite;
  // Durable: COMMIT without the in-loop fsync, then sync the WAL off the loop (wal-sync.ts).
  const syncAfter = conn.durableSends === true && !conn.memory;
  let outcomes: Outcome<AppendResult>[];
  try {
    if (conn.inTransaction) throw new Error('sqlite append: the pooled connection is inside a transaction');
    if (syncAfter) conn.prepare('PRAGMA synchronous = NORMAL').run();
    try {
      // IMMEDIATE: take the write lock now (waiting busy_timeout for other processes), not mid-batch.
      conn.prepare('BEGIN IMMEDIATE').run();
      try {
        // Without savepoints first (two statements less per send); a send that fails (a repeated
        // client_msg_id) rolls the batch back and it runs again with one savepoint per send.
        outcomes = await storeEach(conn, batch, undefined, false);
        if (outcomes.some((o) => 'err' in o)) {
          conn.prepare('ROLLBACK').run();
          conn.prepare('BEGIN IMMEDIATE').run();
          outcomes = await storeEach(conn, batch);
        }
        conn.prepare('COMMIT').run();
      } catch (err) {
        if (conn.inTransaction) conn.prepare('ROLLBACK').run();
        throw err;
      }
    } finally {
      if (syncAfter) conn.prepare('PRAGMA synchronous = FULL').run();
    }
  } finally {
    await knex.client.releaseConnection(conn);
  }
  if (syncAfter) {
    await syncWal(conn.name);
    afterSendBatch(conn, conn.name); // checkpoints on a worker thread, not in our COMMITs
  }
  return outcomes;
}

function viaKnex(knex: Knex, batch: AppendRequest[]): Promise<Outcome<AppendResult>[]> {
  return knex.transaction(async (trx) => storeEach((await trx.client.acquireConnection()) as RawSqlite, batch, trx));
}

/**
 * Each send in its own savepoint; throws (for the caller to roll back) only on lock conflicts.
 * `savepoints` false (only without hooks): the first send that fails stops the batch with its
 * error as the last outcome, and the caller must roll the whole transaction back.
 */
async function storeEach(conn: RawSqlite, batch: AppendRequest[], trx?: Knex.Transaction, savepoints = true): Promise<Outcome<AppendResult>[]> {
  const sql = (text: string) => conn.prepare(text);
  const bump = sql(BUMP);
  const insert = sql(INSERT);
  const outbox = sql(OUTBOX_INSERT_SQL);
  // The outbox gate (outbox.ts): the batch's tenants' endpoints, read once per tenant inside this
  // transaction (the writer's lock is held: no endpoint is created or changed until COMMIT).
  const gateSql = sql(GATE_SQL);
  const gate = new OutboxGate([...new Set(batch.map((r) => r.msg.tenant_id))].flatMap((t) => gateSql.all(t) as GateRow[]));
  const outcomes: Outcome<AppendResult>[] = [];
  for (const { msg: m, now, afterInsert, events, slowOk } of batch) {
    const createdAt = now();
    if (!savepoints) {
      try {
        outcomes.push({ value: storeOne(bump, insert, outbox, gate, m, createdAt, events, slowOk) });
      } catch (err) {
        if (isRetryable(err)) throw err;
        outcomes.push({ err });
        return outcomes;
      }
      continue;
    }
    sql('SAVEPOINT send').run();
    try {
      const row = storeOne(bump, insert, outbox, gate, m, createdAt, events, slowOk);
      if (row && afterInsert) await afterInsert(trx!, row);
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

/** One send's statements: take the seq (if the sender may send now), insert the message and the outbox events the gate lets through. */
function storeOne(bump: Stmt, insert: Stmt, outbox: Stmt, gate: OutboxGate, m: AppendRequest['msg'], createdAt: number, events: AppendRequest['events'], slowOk?: boolean): NewMessageRow | null {
  const taken = bump.get(createdAt, m.tenant_id, m.room_id, slowOk ? 1 : 0, m.room_id, m.sender_id, m.tenant_id, createdAt) as { last_seq: number } | undefined;
  if (!taken) return null;
  const row: NewMessageRow = { ...m, seq: Number(taken.last_seq), created_at: createdAt };
  insert.run(row.id, row.tenant_id, row.room_id, row.seq, row.sender_id, row.content, row.meta, row.client_msg_id,
    row.body_hash, row.created_at, row.edited_at, row.deleted_at);
  // The outbox hook: the send's events, in the same transaction (and savepoint), so they commit with it.
  if (events && gate.any(row.tenant_id)) {
    for (const evt of events(row)) if (gate.wants(evt)) outbox.run(...outboxParams(outboxRow(evt, createdAt)));
  }
  return row;
}

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
 * On the common path a run of consecutive sends by one sender into one room (a connection's
 * pipelined sends, which group-commit.ts keeps together) takes its seqs with one UPDATE of the
 * room (last_seq + k) and shares one created_at: the room row, its activity index entry and the
 * membership check are written and read once per run, not once per send.
 *
 * Each transaction first reads the batch's tenants' webhook endpoints (once per tenant: the outbox
 * gate, outbox.ts) under the writer's lock, and writes a send's events to the outbox only if an
 * endpoint would receive them; most tenants have none, and their sends write no outbox row.
 */
import type { Knex } from 'knex';
import { isRetryable, sqliteFile } from './db.ts';
import { SEND_GATE } from './rooms.ts';
import { type AppendRequest, type AppendResult, messageRow, type NewMessageRow } from './append-types.ts';
import type { Outcome } from './group-commit.ts';
import { afterSendBatch, beforeSendBatch, syncWal } from './wal-sync.ts';
import { OUTBOX_INSERT_SQL, type OutboxGate, outboxParams, outboxRow } from './outbox.ts';
import { rawWrite, readGateRaw, retriedWhileLocked, type RawSqlite, type Stmt } from './sqlite-raw.ts';

/** Takes the room's next `k` seqs (the first parameter) if the sender may send now; returns the last of them. */
export const BUMP = `UPDATE rooms SET last_seq = last_seq + ?, updated_at = ? WHERE ${SEND_GATE} RETURNING last_seq`;
export const INSERT = `INSERT INTO messages (id, tenant_id, room_id, seq, sender_id, content, meta, client_msg_id, body_hash, created_at, edited_at, deleted_at)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;

/**
 * Stores a batch in one transaction; retried whole while the database is locked by another process.
 * `written`: called once the batch has committed and only its WAL sync is left (the group commit
 * may then write the next batch).
 */
export function runSqliteBatch(knex: Knex, batch: AppendRequest[], written?: () => void): Promise<Outcome<AppendResult>[]> {
  return retriedWhileLocked(() => (batch.some((r) => r.afterInsert) ? viaKnex(knex, batch) : viaRaw(knex, batch, written)));
}

async function viaRaw(knex: Knex, batch: AppendRequest[], written?: () => void): Promise<Outcome<AppendResult>[]> {
  const restart = beforeSendBatch(sqliteFile(knex));
  if (restart) await restart; // a checkpoint to the WAL's end: this batch restarts the WAL (wal-sync.ts)
  const { value: outcomes, conn, durable } = await rawWrite(knex, async (conn) => {
    // Without savepoints first (two statements less per send); a send that fails (a repeated
    // client_msg_id) rolls the batch back and it runs again with one savepoint per send.
    const first = storeRuns(conn, batch);
    if (!first.some((o) => 'err' in o)) return first;
    conn.prepare('ROLLBACK').run();
    conn.prepare('BEGIN IMMEDIATE').run();
    return storeEach(conn, batch);
  });
  if (durable) {
    written?.();
    await syncWal(conn.name);
    afterSendBatch(conn, conn.name); // checkpoints on a worker thread, not in our COMMITs
  }
  return outcomes;
}

function viaKnex(knex: Knex, batch: AppendRequest[]): Promise<Outcome<AppendResult>[]> {
  return knex.transaction(async (trx) => storeEach((await trx.client.acquireConnection()) as RawSqlite, batch, trx));
}

/**
 * The common path, without savepoints (only without hooks): runs of consecutive sends by one sender
 * into one room take their seqs with one UPDATE. The first send that fails stops the batch with
 * its error as the last outcome, and the caller must roll the whole transaction back.
 */
function storeRuns(conn: RawSqlite, batch: AppendRequest[]): Outcome<AppendResult>[] {
  const { bump, insert, outbox, gate } = batchStatements(conn, batch);
  const outcomes: Outcome<AppendResult>[] = [];
  for (let i = 0; i < batch.length;) {
    const { msg: m, now, slowOk } = batch[i]!;
    let end = i + 1;
    while (end < batch.length && sameRun(batch[end]!, m, slowOk)) end++;
    try {
      const createdAt = now();
      let seq = takeSeqs(bump, m, createdAt, slowOk, end - i);
      for (; i < end; i++) {
        outcomes.push({ value: seq === null ? null : storeOne(insert, outbox, gate, batch[i]!, ++seq, createdAt) });
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
 * A batch's prepared statements, and the outbox gate (outbox.ts): the batch's tenants' endpoints,
 * read once per tenant inside its transaction (the writer's lock is held: no endpoint is created or
 * changed until COMMIT).
 */
function batchStatements(conn: RawSqlite, batch: AppendRequest[]): { bump: Stmt; insert: Stmt; outbox: Stmt; gate: OutboxGate } {
  return {
    bump: conn.prepare(BUMP),
    insert: conn.prepare(INSERT),
    outbox: conn.prepare(OUTBOX_INSERT_SQL),
    gate: readGateRaw(conn, batch.map((r) => r.msg.tenant_id)),
  };
}

/** The next send continues the run: same tenant, room and sender, and the same slow-mode pass. */
const sameRun = (r: AppendRequest, m: AppendRequest['msg'], slowOk?: boolean) =>
  r.msg.room_id === m.room_id && r.msg.sender_id === m.sender_id && r.msg.tenant_id === m.tenant_id && !r.slowOk === !slowOk;

/** Takes `k` seqs of the room if the sender may send now: the seq before the first of them, or null (refused). */
function takeSeqs(bump: Stmt, m: AppendRequest['msg'], createdAt: number, slowOk: boolean | undefined, k: number): number | null {
  const taken = bump.get(k, createdAt, m.tenant_id, m.room_id, slowOk ? 1 : 0, m.room_id, m.sender_id, m.tenant_id, createdAt) as { last_seq: number } | undefined;
  return taken ? Number(taken.last_seq) - k : null;
}

/** Each send in its own savepoint; throws (for the caller to roll back) only on lock conflicts. */
async function storeEach(conn: RawSqlite, batch: AppendRequest[], trx?: Knex.Transaction): Promise<Outcome<AppendResult>[]> {
  const sql = (text: string) => conn.prepare(text);
  const { bump, insert, outbox, gate } = batchStatements(conn, batch);
  const outcomes: Outcome<AppendResult>[] = [];
  for (const r of batch) {
    const createdAt = r.now();
    sql('SAVEPOINT send').run();
    try {
      const seq = takeSeqs(bump, r.msg, createdAt, r.slowOk, 1);
      const row = seq === null ? null : storeOne(insert, outbox, gate, r, seq + 1, createdAt);
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

/** One send's rows, once its seq is taken: the message and the outbox events the gate lets through. */
function storeOne(insert: Stmt, outbox: Stmt, gate: OutboxGate, r: AppendRequest, seq: number, createdAt: number): NewMessageRow {
  const row = messageRow(r.msg, seq, createdAt);
  insert.run(row.id, row.tenant_id, row.room_id, row.seq, row.sender_id, row.content, row.meta, row.client_msg_id,
    row.body_hash, row.created_at, row.edited_at, row.deleted_at);
  // The outbox hook: the send's events, in the same transaction (and savepoint), so they commit with it.
  if (r.events && gate.any(row.tenant_id)) {
    for (const evt of r.events(row)) if (gate.wants(evt)) outbox.run(...outboxParams(outboxRow(evt, createdAt)));
  }
  return row;
}

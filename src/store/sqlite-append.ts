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
import type { AppendRequest, AppendResult, NewMessageRow } from './append-types.ts';
import type { Outcome } from './group-commit.ts';
import { afterSendBatch, syncWal } from './wal-sync.ts';
import { OUTBOX_INSERT_SQL, type OutboxGate, outboxParams, outboxRow } from './outbox.ts';
import { rawWrite, readGateRaw, retriedWhileLocked, type RawSqlite, type Stmt } from './sqlite-raw.ts';

export const BUMP = `UPDATE rooms SET last_seq = last_seq + 1, updated_at = ? WHERE ${SEND_GATE} RETURNING last_seq`;
export const INSERT = `INSERT INTO messages (id, tenant_id, room_id, seq, sender_id, content, meta, client_msg_id, body_hash, created_at, edited_at, deleted_at)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;

/** Stores a batch in one transaction; retried whole while the database is locked by another process. */
export function runSqliteBatch(knex: Knex, batch: AppendRequest[]): Promise<Outcome<AppendResult>[]> {
  return retriedWhileLocked(() => (batch.some((r) => r.afterInsert) ? viaKnex(knex, batch) : viaRaw(knex, batch)));
}

async function viaRaw(knex: Knex, batch: AppendRequest[]): Promise<Outcome<AppendResult>[]> {
  const { value: outcomes, conn, durable } = await rawWrite(knex, async (conn) => {
    // Without savepoints first (two statements less per send); a send that fails (a repeated
    // client_msg_id) rolls the batch back and it runs again with one savepoint per send.
    const first = await storeEach(conn, batch, undefined, false);
    if (!first.some((o) => 'err' in o)) return first;
    conn.prepare('ROLLBACK').run();
    conn.prepare('BEGIN IMMEDIATE').run();
    return storeEach(conn, batch);
  });
  if (durable) {
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
  const gate = readGateRaw(conn, batch.map((r) => r.msg.tenant_id));
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

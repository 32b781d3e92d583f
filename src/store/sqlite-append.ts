/**
 * The batched send transaction on SQLite (queued by group-commit.ts).
 *
 * SQLite has one writer and knex gives a process one connection; most of a lone send's cost is
 * its transaction (BEGIN, and COMMIT writing the changed pages to the WAL and, with
 * synchronous=FULL, syncing it). Here a whole batch shares one transaction (the statements:
 * sqlite-batch.ts). A send that fails (a repeated idempotency key hits the UNIQUE index, its hook
 * throws) is rolled back alone and gets its own answer while the others commit.
 *
 * Where a batch is written:
 * - On the send writer's thread (sqlite-writer.ts), by default: the loop hands the batch over while
 *   it holds knex's one pooled connection (so no knex transaction of this process interleaves with
 *   it) and answers each send from the seqs that come back. COMMIT syncs the WAL on that thread.
 * - On the loop (the raw better-sqlite3 connection taken from knex's pool, through the cached
 *   prepared statements: cachePreparedStatements in db.ts) until the thread is up, with
 *   SQLITE_SEND_WRITER=loop, for an in-memory database, and for a batch with a send whose tenant
 *   has a webhook endpoint (its outbox events are built by the domain, on the loop). One synchronous
 *   BEGIN IMMEDIATE … COMMIT; with SQLITE_SYNCHRONOUS=FULL its WAL sync runs off the event loop
 *   before the sends are answered (wal-sync.ts).
 * - In a knex transaction on that same connection (FULL's in-loop sync) when a send carries an
 *   afterInsert hook, so the hook can write through it.
 *
 * Each transaction on the loop first reads the batch's tenants' webhook endpoints (once per tenant:
 * the outbox gate, outbox.ts) under the writer's lock, and writes a send's events to the outbox only
 * if an endpoint would receive them; most tenants have none, and their sends write no outbox row.
 */
import type { Knex } from 'knex';
import type { AppendRequest, AppendResult } from './append-types.ts';
import type { Outcome } from './group-commit.ts';
import { afterSendBatch, checkpointsOffLoop, syncWal } from './wal-sync.ts';
import { OUTBOX_INSERT_SQL, outboxParams, outboxRow } from './outbox.ts';
import { rawWrite, readGateRaw, retriedWhileLocked, type RawSqlite } from './sqlite-raw.ts';
import { storeEach, storeRuns, type SendOutbox } from './sqlite-batch.ts';
import { writerFor } from './sqlite-writer.ts';
import { deserializeError, type WriteAnswer } from './sqlite-writer-protocol.ts';

export { BUMP, INSERT } from './sqlite-batch.ts';

/** Stores a batch in one transaction; retried whole while the database is locked by another process. */
export function runSqliteBatch(knex: Knex, batch: AppendRequest[]): Promise<Outcome<AppendResult>[]> {
  return retriedWhileLocked(() => (batch.some((r) => r.afterInsert) ? viaKnex(knex, batch) : viaWriter(knex, batch)));
}

/**
 * Tenants whose sends last came back from the writer thread because they have webhook endpoints:
 * their batches go straight to the loop for a while (a guess that saves a round trip; the thread
 * checks again under its lock whatever this says).
 */
const outboxTenants = new Map<string, number>();
const OUTBOX_TENANT_MS = 10_000;

function outboxLikely(batch: AppendRequest[]): boolean {
  if (outboxTenants.size === 0) return false;
  const now = performance.now();
  return batch.some((r) => {
    const until = r.events ? outboxTenants.get(r.msg.tenant_id) : undefined;
    if (until !== undefined && until < now) outboxTenants.delete(r.msg.tenant_id);
    return until !== undefined && until >= now;
  });
}

/** Each send's time: one reading per clock for the whole batch (a run shares its transaction's time). */
function timesOf(batch: AppendRequest[]): number[] {
  let clock: (() => number) | undefined;
  let at = 0;
  return batch.map((r) => (r.now === clock ? at : (at = (clock = r.now)())));
}

async function viaWriter(knex: Knex, batch: AppendRequest[]): Promise<Outcome<AppendResult>[]> {
  const conn = (await knex.client.acquireConnection()) as RawSqlite;
  let answer: WriteAnswer | undefined;
  let createdAt: number[] = [];
  try {
    const writer = writerFor(knex, conn);
    if (writer?.usable && !outboxLikely(batch)) {
      createdAt = timesOf(batch);
      answer = await writer.write(batch, createdAt, checkpointsOffLoop(conn.name));
    }
  } finally {
    await knex.client.releaseConnection(conn);
  }
  if (answer === undefined) return viaRaw(knex, batch);
  if (answer.kind === 'outbox') {
    const until = performance.now() + OUTBOX_TENANT_MS;
    for (const t of answer.tenants) outboxTenants.set(t, until);
    return viaRaw(knex, batch);
  }
  if (answer.kind !== 'stored') throw deserializeError(answer.kind === 'failed' ? answer.err : { message: 'unexpected answer' });
  afterSendBatch(conn, conn.name);
  const errors = new Map(answer.errors);
  return answer.seqs.map((seq, i) => {
    const err = errors.get(i);
    if (err) return { err: deserializeError(err) };
    return { value: seq === null ? null : { ...batch[i]!.msg, seq, created_at: createdAt[i]! } };
  });
}

async function viaRaw(knex: Knex, batch: AppendRequest[]): Promise<Outcome<AppendResult>[]> {
  const { value: outcomes, conn, durable } = await rawWrite(knex, async (conn) => {
    // Without savepoints first (two statements less per send); a send that fails (a repeated
    // client_msg_id) rolls the batch back and it runs again with one savepoint per send.
    const first = storeRuns(conn, batch, outboxFor(conn, batch));
    if (!first.some((o) => 'err' in o)) return first;
    conn.prepare('ROLLBACK').run();
    conn.prepare('BEGIN IMMEDIATE').run();
    return storeEach(conn, batch, outboxFor(conn, batch));
  });
  if (durable) {
    await syncWal(conn.name);
    afterSendBatch(conn, conn.name); // checkpoints on a worker thread, not in our COMMITs
  }
  return outcomes;
}

function viaKnex(knex: Knex, batch: AppendRequest[]): Promise<Outcome<AppendResult>[]> {
  return knex.transaction(async (trx) => {
    const conn = (await trx.client.acquireConnection()) as RawSqlite;
    return storeEach(conn, batch, outboxFor(conn, batch), trx);
  });
}

/**
 * The outbox gate (outbox.ts): the batch's tenants' endpoints, read once per tenant inside its
 * transaction (the writer's lock is held: no endpoint is created or changed until COMMIT), and the
 * hook that writes a stored send's events some endpoint would receive.
 */
function outboxFor(conn: RawSqlite, batch: AppendRequest[]): SendOutbox {
  const gate = readGateRaw(conn, batch.map((r) => r.msg.tenant_id));
  const insert = conn.prepare(OUTBOX_INSERT_SQL);
  return (r, row, createdAt) => {
    if (!r.events || !gate.any(row.tenant_id)) return;
    for (const evt of r.events(row)) if (gate.wants(evt)) insert.run(...outboxParams(outboxRow(evt, createdAt)));
  };
}

/**
 * Outbox rows that belong to no other change (user.online / user.offline, src/domain/user-status.ts),
 * written in one transaction of their own (only those an endpoint would receive: the gate, outbox.ts)
 * and durable when the promise resolves.
 *
 * On SQLite this takes the send batch's path (sqlite-append.ts): one BEGIN IMMEDIATE … COMMIT on
 * the raw connection through the cached prepared single-row insert (knex writes a multi-row insert
 * on SQLite as a compound SELECT whose text, and so its preparation, changes with the row count),
 * and with SQLITE_SYNCHRONOUS=FULL the COMMIT skips its in-loop fsync and the WAL is synced on
 * libuv's thread pool before the promise resolves (wal-sync.ts). When thousands of clients connect
 * at once these rows were a synced commit on the event loop every 20 ms. MySQL: one knex transaction.
 */
import type { Knex } from 'knex';
import { backoff, MAX_ATTEMPTS } from './append-types.ts';
import { driver, isRetryable } from './db.ts';
import { appendOutbox, GATE_SQL, OUTBOX_INSERT_SQL, OutboxGate, outboxParams, outboxRow, type GateRow, type OutboxEvent } from './outbox.ts';
import { syncWal } from './wal-sync.ts';

interface RawSqlite {
  prepare(sql: string): { run(...params: unknown[]): unknown; all(...params: unknown[]): unknown[] };
  readonly inTransaction: boolean;
  readonly memory: boolean;
  readonly name: string;
  durableSends?: boolean;
  pragma(source: string): unknown;
}

export async function appendOutboxAlone(knex: Knex, events: readonly OutboxEvent[], now: number): Promise<void> {
  if (events.length === 0) return;
  if (driver(knex) !== 'sqlite') return knex.transaction((trx) => appendOutbox(trx, events, now));
  for (let attempt = 1; ; attempt++) {
    try {
      return await viaRaw(knex, events, now);
    } catch (err) {
      if (attempt >= MAX_ATTEMPTS || !isRetryable(err)) throw err;
      await backoff(attempt);
    }
  }
}

async function viaRaw(knex: Knex, events: readonly OutboxEvent[], now: number): Promise<void> {
  const conn = (await knex.client.acquireConnection()) as RawSqlite;
  const syncAfter = conn.durableSends === true && !conn.memory;
  let wrote = false;
  try {
    if (conn.inTransaction) throw new Error('outbox append: the pooled connection is inside a transaction');
    if (syncAfter) conn.prepare('PRAGMA synchronous = NORMAL').run();
    try {
      conn.prepare('BEGIN IMMEDIATE').run();
      try {
        // The outbox gate (outbox.ts), read under the writer's lock: only events an endpoint would receive.
        const gateSql = conn.prepare(GATE_SQL);
        const gate = new OutboxGate([...new Set(events.map((e) => e.tenant_id))].flatMap((t) => gateSql.all(t) as GateRow[]));
        const kept = events.filter((e) => gate.wants(e));
        const insert = conn.prepare(OUTBOX_INSERT_SQL);
        for (const e of kept) insert.run(...outboxParams(outboxRow(e, now)));
        wrote = kept.length > 0;
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
  // No afterSendBatch: that starts the checkpoint worker (a thread, megabytes of memory) on a node
  // that stores no messages; checkpoints stay as they are (the worker's, once sends started it).
  if (syncAfter && wrote) await syncWal(conn.name); // nothing written: nothing to sync
}

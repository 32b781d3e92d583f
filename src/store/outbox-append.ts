/**
 * Outbox rows that belong to no other change (user.online / user.offline, src/domain/user-status.ts),
 * written in one transaction of their own (only those an endpoint would receive: the gate, outbox.ts)
 * and durable when the promise resolves.
 *
 * On SQLite this takes the send batch's path (sqlite-raw.ts): one BEGIN IMMEDIATE … COMMIT on
 * the raw connection through the cached prepared single-row insert (knex writes a multi-row insert
 * on SQLite as a compound SELECT whose text, and so its preparation, changes with the row count),
 * and with SQLITE_SYNCHRONOUS=FULL the COMMIT skips its in-loop fsync and the WAL is synced on
 * libuv's thread pool before the promise resolves (wal-sync.ts). When thousands of clients connect
 * at once these rows were a synced commit on the event loop every 20 ms. MySQL: one knex transaction.
 */
import type { Knex } from 'knex';
import { driver } from './db.ts';
import { appendOutbox, OUTBOX_INSERT_SQL, outboxParams, outboxRow, type OutboxEvent } from './outbox.ts';
import { rawWrite, readGateRaw, retriedWhileLocked } from './sqlite-raw.ts';
import { syncWal } from './wal-sync.ts';

export async function appendOutboxAlone(knex: Knex, events: readonly OutboxEvent[], now: number): Promise<void> {
  if (events.length === 0) return;
  if (driver(knex) !== 'sqlite') return appendOutbox(knex, events, now); // its own transaction (inTransaction: retried on deadlocks)
  const { value: wrote, conn, durable } = await retriedWhileLocked(() => rawWrite(knex, (conn) => {
    // The outbox gate, read under the writer's lock: only events an endpoint would receive.
    const gate = readGateRaw(conn, events.map((e) => e.tenant_id));
    const insert = conn.prepare(OUTBOX_INSERT_SQL);
    const kept = events.filter((e) => gate.wants(e));
    for (const e of kept) insert.run(...outboxParams(outboxRow(e, now)));
    return kept.length > 0;
  }));
  // No afterSendBatch: that starts the checkpoint worker (a thread, megabytes of memory) on a node
  // that stores no messages; checkpoints stay as they are (the worker's, once sends started it).
  if (durable && wrote) await syncWal(conn.name); // nothing written: nothing to sync
}

/**
 * A durable write on the raw better-sqlite3 connection, taken from knex's pool like any knex query
 * (so it never interleaves with a knex transaction), through the cached prepared statements
 * (cachePreparedStatements in db.ts): one synchronous BEGIN IMMEDIATE … COMMIT. With
 * SQLITE_SYNCHRONOUS=FULL the COMMIT skips its in-loop fsync (synchronous=NORMAL for this
 * transaction only) and the caller syncs the WAL off the event loop (wal-sync.ts) before it
 * answers: `durable` says it must. Used by the send batch (sqlite-append.ts) and the outbox rows of
 * their own (outbox-append.ts).
 */
import type { Knex } from 'knex';
import { backoff, MAX_ATTEMPTS } from './append-types.ts';
import { isRetryable } from './db.ts';
import { GATE_SQL, OutboxGate, type GateRow } from './outbox.ts';

export interface Stmt {
  run(...params: unknown[]): { changes: number };
  get(...params: unknown[]): unknown;
  all(...params: unknown[]): unknown[];
}

export interface RawSqlite {
  prepare(sql: string): Stmt;
  readonly inTransaction: boolean;
  readonly memory: boolean;
  /** The database file (better-sqlite3's Database#name). */
  readonly name: string;
  /** Set by openSqlite (db.ts): acknowledged writes must be on disk (SQLITE_SYNCHRONOUS=FULL). */
  durableSends?: boolean;
  pragma(source: string): unknown;
}

export interface RawWrite<T> {
  value: T;
  conn: RawSqlite;
  /** The WAL must be synced (syncWal) before the write is acknowledged. */
  durable: boolean;
}

/**
 * Runs `body` inside BEGIN IMMEDIATE (the write lock now, waiting busy_timeout for other
 * processes, not mid-transaction) and commits; rolls back when it throws. `body` may itself roll
 * back and BEGIN IMMEDIATE again (the send batch's second pass with savepoints).
 */
export async function rawWrite<T>(knex: Knex, body: (conn: RawSqlite) => T | Promise<T>): Promise<RawWrite<T>> {
  const conn = (await knex.client.acquireConnection()) as RawSqlite;
  const durable = conn.durableSends === true && !conn.memory;
  try {
    if (conn.inTransaction) throw new Error('sqlite raw write: the pooled connection is inside a transaction');
    if (durable) conn.prepare('PRAGMA synchronous = NORMAL').run();
    try {
      conn.prepare('BEGIN IMMEDIATE').run();
      try {
        const value = await body(conn);
        conn.prepare('COMMIT').run();
        return { value, conn, durable };
      } catch (err) {
        if (conn.inTransaction) conn.prepare('ROLLBACK').run();
        throw err;
      }
    } finally {
      if (durable) conn.prepare('PRAGMA synchronous = FULL').run();
    }
  } finally {
    await knex.client.releaseConnection(conn);
  }
}

/** Runs `write` again, whole, while the database is locked by another process (up to MAX_ATTEMPTS). */
export async function retriedWhileLocked<T>(write: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await write();
    } catch (err) {
      if (attempt >= MAX_ATTEMPTS || !isRetryable(err)) throw err;
      await backoff(attempt);
    }
  }
}

/** The outbox gate (outbox.ts) on the raw connection: the tenants' endpoints, once per tenant, under the writer's lock. */
export function readGateRaw(conn: RawSqlite, tenantIds: Iterable<string>): OutboxGate {
  const gateSql = conn.prepare(GATE_SQL);
  return new OutboxGate([...new Set(tenantIds)].flatMap((t) => gateSql.all(t) as GateRow[]));
}

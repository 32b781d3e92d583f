/**
 * Database connection for the two supported backends, chosen by URL:
 *   sqlite:<file path>          better-sqlite3, WAL, foreign keys on, busy timeout
 *   mysql://user:pw@host:port/db mysql2 pool, utf8mb4, BIGINTs as numbers; optional URL parameters
 *                                pool_max (10), connect_timeout_ms (5000), query_timeout_ms (15000)
 * Every wait on the database has a deadline (connect, pool acquire, MySQL query; availability.ts),
 * so an unreachable database answers 503 instead of hanging requests.
 * Everything above this file speaks knex only; no SQL text that one backend would not understand.
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import knexFactory, { type Knex } from 'knex';
import { migrationSource } from './migrations.ts';
import { deadlineQueries, guardSqliteFile } from './availability.ts';
import { forgetWal } from './wal-sync.ts';

export type Driver = 'sqlite' | 'mysql';
export type Db = Knex | Knex.Transaction;

const SQLITE_BUSY_TIMEOUT_MS = 5000;
/** Deadlines for reaching the database: a request fails (503) instead of waiting on a dead server. */
const ACQUIRE_TIMEOUT_MS = 10_000;
const MYSQL_CONNECT_TIMEOUT_MS = 5000;
/** A MySQL query with no reply for this long fails (503) and its connection is dropped. */
const MYSQL_QUERY_TIMEOUT_MS = 15_000;

export interface OpenOptions {
  /** SQLite's `PRAGMA synchronous` (see SQLITE_SYNCHRONOUS in config.ts): FULL unless told otherwise. */
  sqliteSynchronous?: 'FULL' | 'NORMAL';
}

export async function openDatabase(url: string, opts: OpenOptions = {}): Promise<Knex> {
  if (url.startsWith('sqlite:')) return openSqlite(url.slice('sqlite:'.length), opts.sqliteSynchronous ?? 'FULL');
  if (url.startsWith('mysql://') || url.startsWith('mysql2://')) return openMysql(url);
  throw new Error(`Unsupported DATABASE_URL "${redact(url)}": use sqlite:<path> or mysql://user:password@host:port/database`);
}

/** What a restarted WAL file keeps of its size (64 MiB); SQLite's default keeps all of it. */
const WAL_SIZE_LIMIT_BYTES = 64 * 1024 * 1024;

function openSqlite(path: string, synchronous: 'FULL' | 'NORMAL'): Knex {
  if (!path) throw new Error('DATABASE_URL sqlite: needs a file path, e.g. sqlite:./data/chatapi.db');
  const memory = path === ':memory:';
  const filename = memory ? path : resolve(path);
  if (!memory) mkdirSync(dirname(filename), { recursive: true });
  const knex = knexFactory({
    client: 'better-sqlite3',
    connection: { filename },
    useNullAsDefault: true,
    acquireConnectionTimeout: ACQUIRE_TIMEOUT_MS,
    pool: {
      // One connection per process (knex's default for SQLite): transactions queue instead of
      // racing for the write lock, which keeps per-room seq assignment simple and gap-free.
      min: 1,
      max: 1,
      afterCreate(conn: SqliteConn, done: (err: Error | null, conn: SqliteConn) => void) {
        try {
          conn.pragma('journal_mode = WAL');
          // FULL: every COMMIT syncs the WAL, so acknowledged survives power loss; group commit
          // (group-commit.ts) shares that sync among the sends of a batch.
          conn.pragma(`synchronous = ${synchronous}`);
          // The send batches keep that promise with their WAL sync off the loop (sqlite-append.ts).
          conn.durableSends = synchronous === 'FULL';
          // A WAL that a burst grew is cut back to this when it restarts (wal-sync.ts walLimits).
          conn.pragma(`journal_size_limit = ${WAL_SIZE_LIMIT_BYTES}`);
          conn.pragma('foreign_keys = ON');
          // Other processes (API node + WS node) share the file: wait for their locks.
          conn.pragma(`busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
          cachePreparedStatements(conn);
          done(null, conn);
        } catch (err) {
          done(err as Error, conn);
        }
      },
    },
  });
  if (!memory) guardSqliteFile(knex, filename);
  return knex;
}

interface SqliteStatement {
  readonly busy: boolean;
  safeIntegers(toggle?: boolean): SqliteStatement;
}

interface SqliteConn {
  durableSends?: boolean;
  pragma(source: string): unknown;
  prepare(sql: string): SqliteStatement;
}

/** Distinct SQL texts kept prepared per connection; knex's queries come from a small, fixed set. */
const STATEMENT_CACHE_SIZE = 500;
/** Longer texts (multi-row inserts, long IN lists) are rarely repeated: prepare them afresh. */
const STATEMENT_CACHE_MAX_SQL = 2000;

/**
 * knex's better-sqlite3 dialect calls `connection.prepare(sql)` for every query, and preparing
 * (parsing + planning) costs more than running the small statements chatapi issues. Keep the
 * prepared statements by SQL text and hand the same one back. Safe because knex runs each one
 * to completion synchronously (`all()` or `run()`, never `iterate()`), binds its parameters on
 * every call, and reads only `statement.reader`, which is fixed at prepare time. A statement
 * still busy (an unfinished iterate()) is never handed out twice: that caller gets a fresh one.
 * A query that switches its statement's integer mode (knex's `safeIntegers` option) takes that
 * statement out of the cache, so the mode never leaks into later queries of the same text.
 * SQLite re-prepares a cached statement itself if the schema changes under it (migrations).
 * Least recently used texts are dropped once the cache is full.
 */
export function cachePreparedStatements(conn: SqliteConn): void {
  const prepare = conn.prepare.bind(conn);
  const cache = new Map<string, SqliteStatement>();
  conn.prepare = (sql: string) => {
    const hit = cache.get(sql);
    if (hit !== undefined && !hit.busy) {
      cache.delete(sql); // re-insert: Map order is the recency order
      cache.set(sql, hit);
      return hit;
    }
    const stmt = prepare(sql);
    if (hit === undefined && sql.length <= STATEMENT_CACHE_MAX_SQL) {
      if (cache.size >= STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value!);
      cache.set(sql, stmt);
      const safeIntegers = stmt.safeIntegers.bind(stmt);
      stmt.safeIntegers = (toggle?: boolean) => {
        if (cache.get(sql) === stmt) cache.delete(sql);
        return safeIntegers(toggle);
      };
    }
    return stmt;
  };
}

function openMysql(url: string): Knex {
  const u = new URL(url);
  const database = decodeURIComponent(u.pathname.replace(/^\//, ''));
  if (!database) throw new Error(`DATABASE_URL "${redact(url)}" names no database`);
  const deadline = { ms: Number(u.searchParams.get('query_timeout_ms') ?? MYSQL_QUERY_TIMEOUT_MS) };
  const knex = knexFactory({
    client: 'mysql2',
    connection: {
      host: u.hostname,
      port: u.port ? Number(u.port) : 3306,
      user: decodeURIComponent(u.username),
      password: decodeURIComponent(u.password),
      database,
      charset: 'utf8mb4',
      // BIGINT epoch-ms and seq values fit in a double; only truly huge values come back as strings.
      supportBigNumbers: true,
      bigNumberStrings: false,
      dateStrings: false,
      timezone: 'Z',
      connectTimeout: Number(u.searchParams.get('connect_timeout_ms') ?? MYSQL_CONNECT_TIMEOUT_MS),
      // The send batch (mysql-batch.ts) sends its statements as one script per round trip; every
      // statement anywhere takes its values as bindings, never as spliced text.
      multipleStatements: true,
    },
    acquireConnectionTimeout: ACQUIRE_TIMEOUT_MS,
    pool: {
      min: 0,
      max: Number(u.searchParams.get('pool_max') ?? 10),
      afterCreate(conn: Parameters<typeof deadlineQueries>[0], done: (err: Error | null, conn: unknown) => void) {
        deadlineQueries(conn, () => deadline.ms);
        done(null, conn);
      },
    },
  });
  queryDeadlines.set(knex, deadline);
  return knex;
}

/** Hide the password when a URL goes into an error message or log. */
export function redact(url: string): string {
  return url.replace(/\/\/([^:/@]*):[^@]*@/, '//$1:***@');
}

export function driver(knex: Db): Driver {
  const client = String(knex.client.config.client);
  return client.startsWith('mysql') ? 'mysql' : 'sqlite';
}

/** A SQLite handle's database file, as its connection names it (better-sqlite3's Database#name: knex passes it the filename). */
export function sqliteFile(knex: Db): string {
  return String((knex.client.config.connection as { filename: string }).filename);
}

const SQLITE_SYNCHRONOUS = ['OFF', 'NORMAL', 'FULL', 'EXTRA'];

/**
 * The durability settings the database actually runs with, read back from it (logged at start):
 * SQLite's journal_mode and synchronous; MySQL's innodb_flush_log_at_trx_commit and sync_binlog.
 */
export async function durabilitySettings(knex: Knex): Promise<Record<string, string | number>> {
  if (driver(knex) === 'sqlite') {
    const [journal] = (await knex.raw('PRAGMA journal_mode')) as { journal_mode: string }[];
    const [sync] = (await knex.raw('PRAGMA synchronous')) as { synchronous: number }[];
    return { journal_mode: journal!.journal_mode, synchronous: SQLITE_SYNCHRONOUS[sync!.synchronous] ?? sync!.synchronous };
  }
  const [rows] = (await knex.raw('SELECT @@innodb_flush_log_at_trx_commit AS flush, @@sync_binlog AS binlog')) as [{ flush: number; binlog: number }[]];
  return { innodb_flush_log_at_trx_commit: Number(rows[0]!.flush), sync_binlog: Number(rows[0]!.binlog) };
}

/** Per MySQL knex: the query deadline, lifted while migrations run (an ALTER on a big table takes long). */
const queryDeadlines = new WeakMap<Knex, { ms: number }>();

export async function migrate(knex: Knex): Promise<void> {
  const deadline = queryDeadlines.get(knex);
  const ms = deadline?.ms ?? 0;
  if (deadline) deadline.ms = 0; // no deadline
  try {
    await knex.migrate.latest({ migrationSource });
  } finally {
    if (deadline) deadline.ms = ms;
  }
}

export async function closeDatabase(knex: Knex): Promise<void> {
  await knex.destroy();
  if (driver(knex) === 'sqlite') await forgetWal(sqliteFile(knex));
}

interface DriverError {
  code?: string;
  errno?: number;
}

/** A UNIQUE or PRIMARY KEY violation, on either backend. */
export function isUniqueViolation(err: unknown): boolean {
  const { code, errno } = (err ?? {}) as DriverError;
  return (
    code === 'SQLITE_CONSTRAINT_UNIQUE' ||
    code === 'SQLITE_CONSTRAINT_PRIMARYKEY' ||
    code === 'ER_DUP_ENTRY' ||
    errno === 1062
  );
}

/** A foreign key violation (e.g. inserting a member for a user deleted meanwhile). */
export function isForeignKeyViolation(err: unknown): boolean {
  const { code, errno } = (err ?? {}) as DriverError;
  return code === 'SQLITE_CONSTRAINT_FOREIGNKEY' || code === 'ER_NO_REFERENCED_ROW_2' || errno === 1452;
}

/** Lock conflicts that succeed when the whole transaction is run again. */
export function isRetryable(err: unknown): boolean {
  const { code, errno } = (err ?? {}) as DriverError;
  if (code?.startsWith('SQLITE_BUSY') || code?.startsWith('SQLITE_LOCKED')) return true;
  return code === 'ER_LOCK_DEADLOCK' || code === 'ER_LOCK_WAIT_TIMEOUT' || errno === 1213 || errno === 1205;
}

/**
 * Run `fn` in a transaction, re-running the whole transaction on deadlocks / busy errors.
 * Any other error (including DomainError) rolls back and propagates at once.
 */
export async function inTransaction<T>(knex: Knex, fn: (trx: Knex.Transaction) => Promise<T>, attempts = 6): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await knex.transaction(fn);
    } catch (err) {
      if (attempt >= attempts || !isRetryable(err)) throw err;
      // Jittered backoff so retried transactions stop colliding in lockstep.
      await new Promise((r) => setTimeout(r, Math.random() * 5 * attempt));
    }
  }
}

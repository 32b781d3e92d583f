/**
 * When the database cannot serve: the errors that mean "unavailable" (answered 503
 * SERVICE_UNAVAILABLE with Retry-After, never 500), deadlines for waits that could otherwise hang,
 * and the SQLite file guard: a node whose database file was deleted or replaced under it keeps
 * writing into a file nobody will ever open again, so it refuses every query instead.
 */
import { accessSync, constants, statSync } from 'node:fs';
import type { Knex } from 'knex';

/** What a caller refused for an outage is told to wait (Retry-After, retry_after_ms). */
export const OUTAGE_RETRY_AFTER_S = 5;

/** The database cannot be used right now (or, for a replaced SQLite file, until a restart). */
export class DatabaseUnavailable extends Error {
  readonly code = 'DATABASE_UNAVAILABLE';
  override name = 'DatabaseUnavailable';
}

/** Error codes meaning the database (not the request) is at fault: connection, I/O, disk, lock timeouts. */
const UNAVAILABLE_CODES = new Set([
  'DATABASE_UNAVAILABLE', 'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EPIPE',
  'PROTOCOL_CONNECTION_LOST', 'PROTOCOL_SEQUENCE_TIMEOUT', 'ER_CON_COUNT_ERROR', 'ER_SERVER_SHUTDOWN', 'ER_LOCK_WAIT_TIMEOUT',
  'ER_OPTION_PREVENTS_STATEMENT', 'ER_CANT_LOCK', 'ER_DISK_FULL', 'ER_RECORD_FILE_FULL',
]);
const SQLITE_UNAVAILABLE = /^SQLITE_(IOERR|CANTOPEN|READONLY|FULL|BUSY|LOCKED|CORRUPT|NOTADB|PERM)/;

export function isDatabaseUnavailable(err: unknown): boolean {
  if (err instanceof DatabaseUnavailable) return true;
  const { code, name, fatal } = (err ?? {}) as { code?: unknown; name?: string; fatal?: boolean };
  if (name === 'KnexTimeoutError') return true; // no connection within acquireConnectionTimeout
  if (typeof code !== 'string') return false;
  return UNAVAILABLE_CODES.has(code) || SQLITE_UNAVAILABLE.test(code) || (fatal === true && code.startsWith('PROTOCOL_'));
}

/** `work`, or a DatabaseUnavailable rejection after `ms` (the work itself is not cancelled). */
export function withDeadline<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DatabaseUnavailable(`${what} did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}

const identity = (file: string): string | null => {
  try {
    const st = statSync(file);
    return `${st.dev}:${st.ino}`;
  } catch {
    return null; // deleted
  }
};

/**
 * Why the files cannot be written, or null. SQLite maps its `-shm` file into memory and writes the
 * WAL index (read marks too) through that mapping: if the files become unwritable (made immutable,
 * a read-only remount) the first write fault kills the process with SIGBUS, which no handler can
 * catch. access(W_OK) refuses an immutable file even to root, so it is checked first.
 */
function unwritable(filename: string): string | null {
  for (const file of [filename, `${filename}-wal`, `${filename}-shm`]) {
    try {
      accessSync(file, constants.W_OK);
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code !== 'ENOENT') return `${file} is not writable (${code})`; // ENOENT: -wal/-shm not made yet
    }
  }
  return null;
}

/**
 * Before every query (knex acquires the pooled connection for each one, and for each transaction
 * and send batch), checks that the file at `filename` is still the one opened: same device and
 * inode. Deleted or replaced, the node refuses every query from then on, until it is restarted.
 * Unwritable (see `unwritable`), the query is refused as unavailable until the files are writable again.
 *
 * A passed check holds for the rest of the event-loop turn (until the next setImmediate): the
 * queries of one turn (thousands of sessions starting at once ask many) share one stat and three
 * access calls instead of paying them each. The file could change between the check and a
 * query's write either way; a failed check is never kept, so the next query looks again.
 */
export function guardSqliteFile(knex: Knex, filename: string): void {
  const client = knex.client as { acquireConnection(): Promise<unknown> };
  const acquire = client.acquireConnection.bind(client);
  let opened: string | null = null;
  let lost: DatabaseUnavailable | undefined;
  let passedThisTurn = false;
  const endTurn = () => { passedThisTurn = false; };
  client.acquireConnection = async () => {
    if (lost) throw lost;
    const conn = await acquire();
    if (passedThisTurn) return conn;
    const now = identity(filename);
    opened ??= now; // the first connection created the file
    if (now === opened) {
      const why = unwritable(filename);
      if (why === null) {
        passedThisTurn = true;
        setImmediate(endTurn);
        return conn;
      }
      await (knex.client as { releaseConnection(c: unknown): Promise<void> }).releaseConnection(conn);
      throw new DatabaseUnavailable(`The SQLite database cannot be written: ${why}`);
    }
    lost = new DatabaseUnavailable(`The SQLite file ${filename} was ${now === null ? 'deleted' : 'replaced'} while this node was using it; restart the node`);
    await (knex.client as { releaseConnection(c: unknown): Promise<void> }).releaseConnection(conn);
    throw lost;
  };
}

interface MysqlConn {
  query(...args: unknown[]): unknown;
  destroy(): void;
  _fatalError?: unknown;
}
type Callback = (err: { code?: string } | null, ...rest: unknown[]) => void;

/**
 * mysql2 waits for a reply forever: on a server that stopped answering (blackholed, a frozen
 * host) every query would hang. Gives each query on `conn` a deadline of `ms`; a query past it
 * fails (PROTOCOL_SEQUENCE_TIMEOUT, answered as 503) and its connection is discarded, since a late
 * reply would otherwise be read as the answer to the next query. For knex's pool `afterCreate`;
 * `ms` is read per query.
 */
export function deadlineQueries(conn: MysqlConn, ms: () => number): void {
  const query = conn.query.bind(conn);
  conn.query = (options: unknown, values?: unknown, cb?: unknown) => {
    // timeout 0: none (while migrations run)
    const opts = { timeout: ms(), ...(typeof options === 'string' ? { sql: options } : (options as object)) };
    const done = (typeof values === 'function' ? values : cb) as Callback | undefined;
    return typeof values === 'function' ? query(opts, guarded(conn, done)) : query(opts, values, done ? guarded(conn, done) : undefined);
  };
}

/** `done`, after discarding the connection of a query past its deadline (not a named closure per query: see load/bench/keep-names.ts). */
function guarded(conn: MysqlConn, done: Callback | undefined): Callback {
  return (err, ...rest) => {
    if (err?.code === 'PROTOCOL_SEQUENCE_TIMEOUT') {
      conn._fatalError = err; // knex's validateConnection drops it from the pool
      conn.destroy();
    }
    done?.(err, ...rest);
  };
}

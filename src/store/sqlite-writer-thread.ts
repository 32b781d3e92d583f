/**
 * The send writer's thread (started by sqlite-writer.ts): its own better-sqlite3 connection to the
 * database file, on which it stores each send batch the event loop hands it in one
 * BEGIN IMMEDIATE … COMMIT (the statements of sqlite-batch.ts), COMMIT's WAL sync included, and
 * answers with each send's seq. The loop meanwhile parses frames, fans out and answers the batch
 * before: the batch's SQLite work no longer stops it.
 *
 * A batch with a send whose tenant has a webhook endpoint is rolled back untouched and handed back:
 * its outbox events come from the domain (a function on the loop's side), so the loop writes it.
 */
import { createRequire } from 'node:module';
import { parentPort, workerData } from 'node:worker_threads';
import type { RawSqlite, Stmt } from './sqlite-raw.ts';
import { ANY_ENDPOINT, storeEach, storeRuns } from './sqlite-batch.ts';
import { decodeSends, serializeError, type WriteAnswer, type WriteBatch } from './sqlite-writer-protocol.ts';
import type { ThreadOptions } from './sqlite-writer.ts';

interface Connection {
  prepare(sql: string): Stmt;
  pragma(source: string): unknown;
  readonly inTransaction: boolean;
  readonly memory: boolean;
  readonly name: string;
}

const opts = workerData as ThreadOptions;
const Database = createRequire(opts.module)(opts.module) as new (file: string, o: { fileMustExist: boolean }) => Connection;
const db = new Database(opts.file, { fileMustExist: true });
db.pragma(`synchronous = ${opts.synchronous}`);
db.pragma('foreign_keys = ON');
db.pragma(`busy_timeout = ${opts.busyTimeoutMs}`);

// The batch's few statements, prepared once.
const prepared = new Map<string, Stmt>();
const conn: RawSqlite = {
  prepare(sql) {
    let stmt = prepared.get(sql);
    if (!stmt) prepared.set(sql, (stmt = db.prepare(sql)));
    return stmt;
  },
  pragma: (source) => db.pragma(source),
  get inTransaction() { return db.inTransaction; },
  memory: false,
  name: opts.file,
};
let autoCheckpointOff = false;

async function write({ id, sends, checkpointsOffLoop }: WriteBatch): Promise<WriteAnswer> {
  if (checkpointsOffLoop && !autoCheckpointOff) {
    db.pragma('wal_autocheckpoint = 0');
    autoCheckpointOff = true;
  }
  const { batch, withEvents } = decodeSends(sends);
  try {
    conn.prepare('BEGIN IMMEDIATE').run();
    try {
      const tenants = withOutbox(batch.filter((_, i) => withEvents[i]).map((r) => r.msg.tenant_id));
      if (tenants.length > 0) {
        conn.prepare('ROLLBACK').run();
        return { id, kind: 'outbox', tenants };
      }
      let outcomes = storeRuns(conn, batch);
      if (outcomes.some((o) => 'err' in o)) {
        // A send failed (a repeated client_msg_id): again with one savepoint per send.
        conn.prepare('ROLLBACK').run();
        conn.prepare('BEGIN IMMEDIATE').run();
        outcomes = await storeEach(conn, batch);
      }
      conn.prepare('COMMIT').run();
      const seqs: (number | null)[] = [];
      const errors: [number, ReturnType<typeof serializeError>][] = [];
      outcomes.forEach((o, i) => {
        if ('err' in o) {
          errors.push([i, serializeError(o.err)]);
          seqs.push(null);
        } else seqs.push(o.value === null ? null : o.value.seq);
      });
      return { id, kind: 'stored', seqs, errors };
    } catch (err) {
      if (db.inTransaction) conn.prepare('ROLLBACK').run();
      throw err;
    }
  } catch (err) {
    return { id, kind: 'failed', err: serializeError(err) };
  }
}

/** Of these tenants, the ones with a webhook endpoint (read under the writer's lock). */
function withOutbox(tenantIds: string[]): string[] {
  const any = conn.prepare(ANY_ENDPOINT);
  return [...new Set(tenantIds)].filter((t) => any.get(t) !== undefined);
}

// One batch at a time, in the order they came; every batch is answered, whatever went wrong.
let queue = Promise.resolve();
parentPort!.on('message', (batch: WriteBatch) => {
  queue = queue
    .then(() => write(batch))
    .catch((err: unknown): WriteAnswer => ({ id: batch.id, kind: 'failed', err: serializeError(err) }))
    .then((answer) => parentPort!.postMessage(answer));
});
parentPort!.postMessage({ id: 0, kind: 'ready' } satisfies WriteAnswer);

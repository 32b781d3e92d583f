/**
 * Durable sends without blocking the event loop on SQLite.
 *
 * With synchronous=FULL, SQLite syncs the WAL inside COMMIT, and better-sqlite3 runs COMMIT on the
 * event loop's thread: every batch stalls the whole node (fan-out, frames, timers) for one fsync,
 * which on a busy disk is milliseconds to tens of milliseconds. The send batch therefore commits
 * with synchronous=NORMAL (COMMIT only write()s the WAL) and then syncs the WAL file itself on
 * libuv's thread pool, answering its sends only after that sync: acknowledged still means on
 * disk, as with FULL, while the loop keeps serving (the sends that arrive meanwhile form the next
 * batch: store/messages.ts IN_FLIGHT). Other writes keep the connection's configured synchronous=FULL.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

const handles = new Map<string, Promise<FileHandle>>();

/** fdatasync(2) of `<database>-wal` off the event loop. */
export async function syncWal(databaseFile: string): Promise<void> {
  const path = `${databaseFile}-wal`;
  let handle = handles.get(path);
  if (!handle) {
    handle = open(path, 'r+');
    handles.set(path, handle);
    handle.catch(() => handles.delete(path));
  }
  try {
    await (await handle).datasync();
  } catch (err) {
    handles.delete(path); // a replaced or vanished file: reopen next time (and fail this batch)
    throw err;
  }
}

/** Forget (and close) the handles of a database that is closing. */
export async function forgetWal(databaseFile: string): Promise<void> {
  await stopCheckpointer(databaseFile);
  const path = `${databaseFile}-wal`;
  const handle = handles.get(path);
  handles.delete(path);
  await handle?.then((h) => h.close()).catch(() => undefined);
}

/**
 * Checkpoints off the event loop. SQLite's automatic checkpoint runs inside the COMMIT that
 * grows the WAL past 1000 pages: it copies the WAL into the database file and syncs it, on the
 * loop's thread, stalling every connection of the node for tens of milliseconds (measured: about
 * half of the send batches' COMMIT time). Once a worker thread with its own connection to the same
 * file is ready, the send path turns the automatic checkpoint off on its connection and asks the
 * worker for a PASSIVE checkpoint (which never blocks the writer) after every few batches, and at
 * least every CHECKPOINT_EVERY_MS while the database is open.
 *
 * The WAL restarts (is written again from its first page) only when a write transaction begins
 * after a checkpoint that copied all of it. Under sustained sends the writer appends the next
 * batch while each checkpoint runs, so none reaches the end and the file grew without bound:
 * 175 MB after 30 s of 500 rooms x 10 saturated (about a page per message), 1.7 GB after a
 * minute, and with it the send path's CPU per message (each page read searches a wal-index that
 * grows with the WAL). So once a checkpoint reports the WAL at walLimits.restartPages or
 * more, the next send batch waits for a checkpoint that starts after the batch before it, with
 * nothing written meanwhile by the send path: it reaches the end, and that batch restarts the
 * WAL. The batch before it is answered meanwhile. `journal_size_limit` (db.ts) then truncates a
 * file a burst left bigger.
 */

const CHECKPOINT_BATCHES = 4;
const CHECKPOINT_EVERY_MS = 1000;
/** restartPages: about 16 MiB of 4 KiB pages (at 500 x 10 saturated, a restart every ~16 batches); tests lower it. */
export const walLimits = { restartPages: 4096 };

const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.module);
const db = new Database(workerData.file, { fileMustExist: true });
db.pragma('busy_timeout = 1000');
parentPort.on('message', () => {
  let result;
  try {
    const [r] = db.pragma('wal_checkpoint(PASSIVE)');
    result = { ok: true, log: r.log, checkpointed: r.checkpointed };
  } catch { result = { ok: false }; }
  parentPort.postMessage(result);
});
parentPort.postMessage('ready');
`;

interface Checkpointer {
  worker: Worker;
  ready: boolean;
  whenReady: Promise<boolean>;
  running: boolean;
  /** Resolved with the outcome of the checkpoint under way. */
  done: ((ok: boolean) => void)[];
  /** Asked for while one was under way: resolved by the next one, which starts after it. */
  next: ((ok: boolean) => void)[];
  batches: number;
  timer: NodeJS.Timeout;
  /** Pages in the WAL when the last checkpoint ran (0 once the checkpoint a restart waits for has run). */
  walPages: number;
  /** Batches since the last restart was asked for (one is asked for at most every CHECKPOINT_BATCHES). */
  sinceRestart: number;
  /** The checkpoint the next send batch waits for (the WAL restarts with that batch). */
  restart?: Promise<void>;
  /** Restarts asked for (tests, /metrics). */
  restarts: number;
}

interface CheckpointResult { ok: boolean; log?: number; checkpointed?: number }

const checkpointers = new Map<string, Checkpointer>();

function checkpointerFor(databaseFile: string): Checkpointer {
  let c = checkpointers.get(databaseFile);
  if (c) return c;
  const worker = new Worker(WORKER, { eval: true, workerData: { file: databaseFile, module: createRequire(import.meta.url).resolve('better-sqlite3') } });
  worker.unref();
  let settle: (ready: boolean) => void = () => {};
  const cp: Checkpointer = {
    worker, ready: false, whenReady: new Promise((resolve) => (settle = resolve)), running: false, done: [], next: [], batches: 0,
    walPages: 0, sinceRestart: 0, restarts: 0,
    timer: setInterval(() => { if (!cp.running) void request(cp); }, CHECKPOINT_EVERY_MS).unref(),
  };
  worker.on('message', (msg) => {
    if (msg === 'ready') {
      cp.ready = true;
      settle(true);
      return;
    }
    cp.running = false;
    const result = msg as CheckpointResult;
    if (result.ok) cp.walPages = result.log ?? 0;
    for (const fn of cp.done.splice(0)) fn(result.ok);
    if (cp.next.length) start(cp, cp.next.splice(0));
  });
  // Without the worker the connection keeps SQLite's automatic checkpoint (walCheckpointsOffLoop stays false).
  const gone = () => {
    cp.ready = false;
    settle(false);
    clearInterval(cp.timer);
    for (const fn of [...cp.done.splice(0), ...cp.next.splice(0)]) fn(false);
  };
  worker.on('error', gone);
  worker.on('exit', gone);
  checkpointers.set(databaseFile, cp);
  return cp;
}

/** Asks for a checkpoint that starts now, or right after the one under way; resolves with whether it ran. */
function request(cp: Checkpointer): Promise<boolean> {
  if (!cp.ready) return Promise.resolve(false);
  return new Promise<boolean>((resolve) => {
    if (cp.running) cp.next.push(resolve);
    else start(cp, [resolve]);
  });
}

function start(cp: Checkpointer, waiting: ((ok: boolean) => void)[]): void {
  cp.running = true;
  cp.batches = 0;
  cp.done.push(...waiting);
  cp.worker.postMessage(0);
}

/** Tests and tools: wait until the database's checkpoint worker is up, then for a checkpoint by it. */
export async function checkpointOffLoop(databaseFile: string): Promise<boolean> {
  const cp = checkpointerFor(databaseFile);
  return (await cp.whenReady) && request(cp);
}

interface CheckpointedConn {
  pragma(source: string): unknown;
  /** This connection's automatic checkpoint is off: the worker checkpoints for it. */
  walCheckpointsOffLoop?: boolean;
}

/**
 * After a send batch on `conn` has committed and synced: count it toward the next checkpoint, and
 * once the database's worker is ready, turn the connection's automatic checkpoint off (it stays
 * off). When the WAL has grown to walLimits.restartPages, ask for the checkpoint the next batch waits
 * for (beforeSendBatch).
 */
export function afterSendBatch(conn: CheckpointedConn, databaseFile: string): void {
  const cp = checkpointerFor(databaseFile);
  if (!cp.ready) return;
  if (!conn.walCheckpointsOffLoop) {
    conn.pragma('wal_autocheckpoint = 0');
    conn.walCheckpointsOffLoop = true;
  }
  cp.sinceRestart += 1;
  if (cp.walPages >= walLimits.restartPages && !cp.restart && cp.sinceRestart >= CHECKPOINT_BATCHES) {
    cp.sinceRestart = 0;
    cp.restarts += 1;
    const restart: Promise<void> = request(cp).then(() => {
      cp.walPages = 0; // the next batch restarts the WAL (unless another write came first: then a later checkpoint says so)
      if (cp.restart === restart) cp.restart = undefined;
    });
    cp.restart = restart;
    return;
  }
  if (++cp.batches >= CHECKPOINT_BATCHES && !cp.running) void request(cp);
}

/** What a send batch waits for before it writes: the checkpoint that lets it restart the WAL, if one was asked for. */
export function beforeSendBatch(databaseFile: string): Promise<void> | undefined {
  return checkpointers.get(databaseFile)?.restart;
}

/** Restarts the send path has waited for, and the WAL's pages at the last checkpoint (0 after a restart was): tests and /metrics. */
export function walState(databaseFile: string): { restarts: number; pages: number } {
  const cp = checkpointers.get(databaseFile);
  return { restarts: cp?.restarts ?? 0, pages: cp?.walPages ?? 0 };
}

async function stopCheckpointer(databaseFile: string): Promise<void> {
  const cp = checkpointers.get(databaseFile);
  if (!cp) return;
  checkpointers.delete(databaseFile);
  clearInterval(cp.timer);
  await cp.worker.terminate().catch(() => undefined);
}

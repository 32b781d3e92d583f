/**
 * Durable sends without blocking the event loop on SQLite.
 *
 * With synchronous=FULL, SQLite syncs the WAL inside COMMIT, and better-sqlite3 runs COMMIT on the
 * event loop's thread: every batch stalls the whole node (fan-out, frames, timers) for one fsync,
 * which on a busy disk is milliseconds to tens of milliseconds. The send batch therefore commits
 * with synchronous=NORMAL (COMMIT only write()s the WAL) and then syncs the WAL file itself on
 * libuv's thread pool, answering its sends only after that sync: acknowledged still means on
 * disk, as with FULL, while the loop keeps serving and the next batch can already run (its own
 * sync covers both). Other writes keep the connection's configured synchronous=FULL.
 */
import { open, type FileHandle } from 'node:fs/promises';

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
  const path = `${databaseFile}-wal`;
  const handle = handles.get(path);
  handles.delete(path);
  await handle?.then((h) => h.close()).catch(() => undefined);
}

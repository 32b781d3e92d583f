/**
 * The send writer: a worker thread that owns a second connection to the SQLite file and stores
 * send batches on it (sqlite-writer-thread.ts), so the event loop spends none of a batch's SQLite
 * time (at 500 rooms of 10, saturated, that was a quarter of the loop: 7.3 of each 28.5-ms cycle)
 * and goes on parsing, fanning out and answering while the batch commits.
 *
 * The loop keeps the writer's turns exclusive: a batch is handed over while it holds knex's single
 * pooled connection (sqlite-append.ts), so no knex transaction of this process interleaves with
 * it, exactly as when the loop wrote the batch itself. One thread per database handle, started by
 * migrate() (db.ts) where SQLITE_SEND_WRITER resolves to `thread`; until it is ready, and for good
 * if it fails, batches are written on the loop. A batch in flight when the thread dies fails (its
 * sends are answered with the error, never acknowledged).
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { buildSync } from 'esbuild';
import type { Knex } from 'knex';
import type { AppendRequest } from './append-types.ts';
import { encodeSends, type WriteAnswer, type WriteBatch } from './sqlite-writer-protocol.ts';

/**
 * The thread's module and what it imports, bundled into one script once per process (a worker does
 * not inherit tsx's hooks; registering them there costs a third of a second and 30 MB per thread,
 * the bundle a few milliseconds and nothing). better-sqlite3 stays outside: the thread loads it by path.
 */
let threadScript: string | undefined;
function script(): string {
  threadScript ??= buildSync({
    entryPoints: [fileURLToPath(new URL('./sqlite-writer-thread.ts', import.meta.url))],
    bundle: true, platform: 'node', format: 'cjs', target: 'node20', write: false, logLevel: 'silent',
    external: ['better-sqlite3'],
  }).outputFiles[0]!.text;
  return threadScript;
}

export interface WriterOptions {
  file: string;
  synchronous: 'FULL' | 'NORMAL';
  busyTimeoutMs: number;
}

/** What the thread is started with. */
export interface ThreadOptions extends WriterOptions {
  /** better-sqlite3's resolved path. */
  module: string;
}

interface Pending {
  resolve(answer: WriteAnswer): void;
  reject(err: unknown): void;
}

export class SendWriter {
  private readonly worker: Worker;
  private ready = false;
  private stopped = false;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private settleReady: (ok: boolean) => void = () => {};
  /** Resolves with whether the thread came up (migrate, tests and tools wait for it). */
  readonly whenReady: Promise<boolean>;

  constructor(opts: WriterOptions) {
    this.worker = new Worker(script(), {
      eval: true,
      workerData: { ...opts, module: createRequire(import.meta.url).resolve('better-sqlite3') } satisfies ThreadOptions,
    });
    this.worker.unref(); // referenced only while a batch is in flight
    this.whenReady = new Promise((resolve) => (this.settleReady = resolve));
    this.worker.on('message', (answer: WriteAnswer) => {
      if (answer.kind === 'ready') {
        this.ready = !this.stopped;
        this.settleReady(this.ready);
        return;
      }
      const p = this.pending.get(answer.id);
      this.pending.delete(answer.id);
      if (this.pending.size === 0) this.worker.unref();
      p?.resolve(answer);
    });
    this.worker.on('error', (err) => this.gone(err));
    this.worker.on('exit', (code) => this.gone(new Error(`exit code ${code}`)));
  }

  /** No more batches; those in flight fail (whatever the thread does with them now is never acknowledged). */
  private gone(why: unknown): void {
    this.ready = false;
    this.stopped = true;
    this.settleReady(false);
    const err = Object.assign(new Error('the SQLite send writer thread stopped'), { cause: why });
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }

  /** Whether batches go to the thread (it is up and has not failed). */
  get usable(): boolean {
    return this.ready && !this.stopped;
  }

  /** Stores a batch on the thread; `createdAt[i]` is send i's time. */
  write(batch: readonly AppendRequest[], createdAt: readonly number[], checkpointsOffLoop: boolean): Promise<WriteAnswer> {
    if (!this.usable) return Promise.reject(new Error('the SQLite send writer thread is not running'));
    const id = this.nextId++;
    const msg: WriteBatch = { id, checkpointsOffLoop, sends: encodeSends(batch, createdAt) };
    return new Promise<WriteAnswer>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.ref();
      this.worker.postMessage(msg);
    });
  }

  async stop(): Promise<void> {
    this.gone(new Error('stopped'));
    await this.worker.terminate().catch(() => undefined);
  }
}

const writers = new WeakMap<Knex, SendWriter>();

/** What a pooled connection says about its database (set by openSqlite, db.ts). */
export interface WriterConn {
  readonly name: string;
  readonly memory: boolean;
  durableSends?: boolean;
  sendWriter?: 'thread' | 'loop';
  busyTimeoutMs?: number;
}

/**
 * The database handle's writer thread, started on first use; none where batches are written on
 * the loop (SQLITE_SEND_WRITER=loop, or an in-memory database, which another connection cannot see).
 */
export function writerFor(knex: Knex, conn: WriterConn): SendWriter | undefined {
  if (conn.sendWriter !== 'thread' || conn.memory) return undefined;
  let w = writers.get(knex);
  if (!w) {
    w = new SendWriter({ file: conn.name, synchronous: conn.durableSends ? 'FULL' : 'NORMAL', busyTimeoutMs: conn.busyTimeoutMs ?? 5000 });
    writers.set(knex, w);
  }
  return w;
}

/** Tests and tools: the handle's writer thread if one was started. */
export function existingWriter(knex: Knex): SendWriter | undefined {
  return writers.get(knex);
}

/** Stops the handle's writer thread (closeDatabase, after knex has let go of its connection). */
export async function stopWriter(knex: Knex): Promise<void> {
  const w = writers.get(knex);
  writers.delete(knex);
  await w?.stop();
}

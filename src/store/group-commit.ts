/**
 * Group commit: the queue in front of a backend's batched send transaction.
 *
 * Sends are queued and stored together: everything that arrives within one turn of the event loop
 * (a flush is scheduled with setImmediate, so every WebSocket frame and HTTP request read in the
 * same poll phase is already queued) and everything that arrives while a batch is committing
 * goes into the next batch. The backend's `run` stores a batch in one transaction and returns one
 * outcome per send, in order; each send is answered with its own outcome only after that
 * transaction has committed (or failed), so acknowledged still means committed.
 */

/** Each send's answer: its stored value, or the error that send alone failed with. */
export type Outcome<R> = { value: R } | { err: unknown };

export interface BatchStats {
  /** Called after each batch with its size and how long its transaction took. */
  onBatch?(size: number, seconds: number): void;
}

interface Waiting<T, R> {
  item: T;
  together?: object;
  resolve(value: R): void;
  reject(err: unknown): void;
}

export class GroupCommit<T, R> {
  private queue: Waiting<T, R>[] = [];
  private scheduled = false;
  private inFlight = 0;

  /**
   * @param run stores one batch; rejects only when no send of it was stored (each then fails with that error)
   * @param maxBatch bounds how long one transaction holds its locks and how late its first send is answered
   * @param maxInFlight batches committing at once (1 for SQLite's single writer)
   */
  constructor(
    private readonly run: (batch: T[]) => Promise<Outcome<R>[]>,
    private readonly maxBatch: number,
    private readonly maxInFlight: number,
    private readonly stats: BatchStats = {},
  ) {}

  /**
   * Queues one send. `together`: sends submitted one right after another with the same token are
   * never split between two batches (a batch may then exceed maxBatch by them), so they are stored
   * in one transaction in submit order: a WebSocket connection's pipelined sends take their seqs in
   * frame order even where batches commit concurrently.
   */
  submit(item: T, together?: object): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ item, resolve, reject, together });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight >= this.maxInFlight || this.queue.length === 0) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      while (this.inFlight < this.maxInFlight && this.queue.length > 0) void this.flush(this.queue.splice(0, this.cut()));
    });
  }

  /** How many queued sends the next batch takes: maxBatch, plus the rest of a `together` group it would split. */
  private cut(): number {
    let n = Math.min(this.maxBatch, this.queue.length);
    const group = this.queue[n - 1]!.together;
    if (group) while (n < this.queue.length && this.queue[n]!.together === group) n++;
    return n;
  }

  /** Sends queued and not yet in a batch (behind the batch committing now). */
  get waiting(): number {
    return this.queue.length;
  }

  /** The next batch is already full: a send submitted now waits at least one batch more. */
  get backlogged(): boolean {
    return this.queue.length >= this.maxBatch;
  }

  private async flush(batch: Waiting<T, R>[]): Promise<void> {
    this.inFlight += 1;
    const started = process.hrtime.bigint();
    try {
      const outcomes = await this.run(batch.map((w) => w.item));
      this.stats.onBatch?.(batch.length, Number(process.hrtime.bigint() - started) / 1e9);
      batch.forEach((w, i) => {
        const o = outcomes[i]!;
        if ('err' in o) w.reject(o.err);
        else w.resolve(o.value);
      });
    } catch (err) {
      for (const w of batch) w.reject(err);
    } finally {
      this.inFlight -= 1;
      this.schedule();
    }
  }
}

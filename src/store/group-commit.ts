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

/** One submit: its sends (consecutive in their batch) and the callback that takes their outcomes, in order. */
interface Waiting<T, R> {
  items: T[];
  settle(outcomes: Outcome<R>[]): void;
}

/** Queued sends that go into one batch together, in submit order: one `together` token's, or a submit alone. */
interface Group<T, R> {
  together?: object;
  items: Waiting<T, R>[];
  /** Sends in it (a submit may carry several). */
  sends: number;
}

export class GroupCommit<T, R> {
  private queue: Group<T, R>[] = [];
  /** The queued group of each token (until a batch takes it). */
  private open = new Map<object, Group<T, R>>();
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
   * Queues one send. `together`: every send submitted with the same token while an earlier one of
   * it is still queued joins that one's group, right behind it, however many others were queued
   * in between; a group is never split between two batches (a batch may then exceed maxBatch by
   * it). A WebSocket connection passes one token for all its sends (ws/dispatch.ts), so the sends
   * it pipelines while its previous ones wait for a batch are stored with them, in frame order, as
   * one run per room (one seq UPDATE per run: sqlite-append.ts), and each batch holds a sender's
   * whole window instead of slices of many.
   */
  submit(item: T, together?: object): Promise<R> {
    return this.submitMany([item], together).then(unwrapFirst);
  }

  /**
   * Queues several sends at once, consecutive in their batch (as many submit() calls in a row with
   * the same token would be), and resolves once with each one's outcome in order: a WebSocket run
   * (ws/dispatch.ts) costs one promise, not one per send. Never rejects.
   */
  submitMany(items: T[], together?: object): Promise<Outcome<R>[]> {
    return new Promise<Outcome<R>[]>((settle) => {
      const waiting: Waiting<T, R> = { items, settle };
      const group = together && this.open.get(together);
      if (group) {
        group.items.push(waiting);
        group.sends += items.length;
      } else {
        const fresh: Group<T, R> = { together, items: [waiting], sends: items.length };
        this.queue.push(fresh);
        if (together) this.open.set(together, fresh);
      }
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight >= this.maxInFlight || this.queue.length === 0) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      while (this.inFlight < this.maxInFlight && this.queue.length > 0) void this.flush(this.cut());
    });
  }

  /** The next batch: whole groups from the front of the queue, up to maxBatch sends (or one group beyond it). */
  private cut(): Waiting<T, R>[] {
    const batch: Waiting<T, R>[] = [];
    let groups = 0;
    let sends = 0;
    while (groups < this.queue.length && sends < this.maxBatch) {
      const group = this.queue[groups++]!;
      if (group.together) this.open.delete(group.together);
      for (const w of group.items) batch.push(w);
      sends += group.sends;
    }
    this.queue.splice(0, groups);
    return batch;
  }

  /** Sends queued and not yet in a batch (behind the batch committing now); read by the metrics scrape, not per send. */
  get waiting(): number {
    let sends = 0;
    for (const group of this.queue) sends += group.sends;
    return sends;
  }

  private async flush(batch: Waiting<T, R>[]): Promise<void> {
    this.inFlight += 1;
    const started = process.hrtime.bigint();
    const items: T[] = [];
    for (const w of batch) for (const item of w.items) items.push(item);
    let outcomes: Outcome<R>[];
    try {
      outcomes = await this.run(items);
      this.stats.onBatch?.(items.length, Number(process.hrtime.bigint() - started) / 1e9);
    } catch (err) {
      const failed: Outcome<R> = { err };
      outcomes = items.map(() => failed);
    }
    this.inFlight -= 1;
    let k = 0;
    for (const w of batch) {
      const n = w.items.length;
      w.settle(n === outcomes.length ? outcomes : outcomes.slice(k, k + n));
      k += n;
    }
    this.schedule();
  }
}

function unwrapFirst<R>(outcomes: Outcome<R>[]): R {
  const o = outcomes[0]!;
  if ('err' in o) throw o.err;
  return o.value;
}

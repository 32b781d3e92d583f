/**
 * Group commit: the queue in front of a backend's batched send transaction.
 *
 * Sends are queued and stored together: everything that arrives within one turn of the event loop
 * (a flush is scheduled with setImmediate, so every WebSocket frame and HTTP request read in the
 * same poll phase is already queued) and everything that arrives while a batch is committing
 * goes into the next batch. The backend's `run` stores a batch in one transaction and returns one
 * outcome per send, in order; each send is answered with its own outcome only after that
 * transaction has committed (or failed), so acknowledged still means committed.
 *
 * Batches are written one at a time, in cut order, and answered in that order. A backend whose
 * durability wait comes after its COMMIT (SQLite's WAL sync off the loop: wal-sync.ts) says when a
 * batch is written (`written`); the next batch may then be written while that one waits, but only
 * when a full batch is queued: waiting could not make it bigger, and a smaller one would cost a
 * publish per room more (load/README § "Issue 12, twenty-first round").
 */

/** Each send's answer: its stored value, or the error that send alone failed with. */
export type Outcome<R> = { value: R } | { err: unknown };

export interface BatchStats {
  /**
   * Called after each batch with its size, how long its transaction took, and whether it was
   * written while the batch before it waited for its durability sync.
   */
  onBatch?(size: number, seconds: number, overlapped: boolean): void;
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
  /** The batch being written (its `run` has not said `written` nor ended): the next one waits for it. */
  private writing?: Waiting<T, R>[];
  /** Sends in the queue. */
  private queued = 0;
  /** Settles once the last batch started has answered its sends: the next one answers after it. */
  private answered: Promise<void> = Promise.resolve();

  /**
   * @param run stores one batch; rejects only when no send of it was stored (each then fails with that error).
   *   It may call `written` once the batch is committed and only its durability wait is left.
   * @param maxBatch bounds how long one transaction holds its locks and how late its first send is answered
   * @param maxInFlight batches whose `run` is under way at once (only one of them being written)
   */
  constructor(
    private readonly run: (batch: T[], written: () => void) => Promise<Outcome<R>[]>,
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
      this.queued += items.length;
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || !this.mayStart()) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      while (this.mayStart()) void this.flush(this.cut());
    });
  }

  /** None being written, fewer than maxInFlight started, and beside one already started only a full batch. */
  private mayStart(): boolean {
    return !this.writing && this.inFlight < this.maxInFlight && this.queue.length > 0 && (this.inFlight === 0 || this.queued >= this.maxBatch);
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
    this.queued -= sends;
    return batch;
  }

  /** Sends queued and not yet in a batch (behind the batch committing now); read by the metrics scrape, not per send. */
  get waiting(): number {
    return this.queued;
  }

  private async flush(batch: Waiting<T, R>[]): Promise<void> {
    const overlapped = this.inFlight > 0;
    this.inFlight += 1;
    this.writing = batch;
    const before = this.answered;
    let answered!: () => void;
    this.answered = new Promise<void>((resolve) => (answered = resolve));
    const written = () => {
      if (this.writing !== batch) return; // said already (or the run ended)
      this.writing = undefined;
      this.schedule();
    };
    const started = process.hrtime.bigint();
    const items: T[] = [];
    for (const w of batch) for (const item of w.items) items.push(item);
    let outcomes: Outcome<R>[];
    try {
      outcomes = await this.run(items, written);
      this.stats.onBatch?.(items.length, Number(process.hrtime.bigint() - started) / 1e9, overlapped);
    } catch (err) {
      const failed: Outcome<R> = { err };
      outcomes = items.map(() => failed);
    }
    this.inFlight -= 1;
    written();
    await before; // the batch before this one answers first
    let k = 0;
    for (const w of batch) {
      const n = w.items.length;
      w.settle(n === outcomes.length ? outcomes : outcomes.slice(k, k + n));
      k += n;
    }
    answered();
    this.schedule();
  }
}

function unwrapFirst<R>(outcomes: Outcome<R>[]): R {
  const o = outcomes[0]!;
  if ('err' in o) throw o.err;
  return o.value;
}

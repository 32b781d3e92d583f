/**
 * Per-room ordering of live `message.created` frames on one node. Events reach a node in commit
 * order only roughly (two API nodes, or two transactions finishing in either order), so frames
 * are published to the room topic strictly by `seq`: the next one goes out at once, a later one
 * waits for the gap to fill. A gap still open after `gapMs` is filled from the database (the
 * event was lost, e.g. while Redis reconnected); what even that cannot find is skipped, and a
 * skipped seq that turns up later is still published: late, but never lost.
 *
 * A seq this process has committed and will announce shortly (a pipelined send waiting to be
 * acked first: bus/unannounced.ts) is neither filled from the database nor skipped: the gap stays
 * open until it is announced, so its sender sees the ack before the message.created. Not forever:
 * a seq still unannounced after `maxWaitMs` (a send stuck on its database) no longer holds the
 * room's stream back and is filled like any other.
 *
 * `last` is the highest seq such that every seq up to it was published (or skipped); a room only
 * has a sequencer while some local connection is live in it.
 */
import type { GapOutcome } from './observer.ts';

const MAX_SKIPPED = 10_000;

export interface Found {
  seq: number;
  bytes: Buffer;
}

/**
 * What a sequencer calls out to. Each call also names the sequencer's `room` (the tag it was made
 * with), so one hooks object serves every room of a node: a node holds a sequencer per live room,
 * and five closures per room (each a named function under tsx, with its own ~256 B property
 * dictionary) were ~1.4 KB a room.
 */
export interface SequencerHooks<R = void> {
  publish(bytes: Buffer, room: R): void;
  /** `last` moved forward. */
  onAdvance(room: R): void;
  /** Stored messages with seq in [from, to], oldest first; a page of them (loaded again from after its last). */
  load(from: number, to: number, room: R): Promise<Found[]>;
  /** The lowest seq in [from, to] committed here and not yet announced (kept open), if any. */
  unannounced?(from: number, to: number, room: R): number | undefined;
  /** A gap outlived gapMs: what became of it. */
  gap?(outcome: GapOutcome, room: R): void;
}

export class Sequencer<R = void> {
  private readonly held = new Map<number, Buffer>();
  private readonly skipped = new Set<number>();
  private gapTimer?: NodeJS.Timeout;
  private loading = false;
  private disposed = false;

  /** The unannounced seq the current gap waits for, and since when. */
  private waiting?: { seq: number; since: number };

  constructor(
    public last: number, private readonly hooks: SequencerHooks<R>, private readonly gapMs: number,
    private readonly maxWaitMs: number, readonly room: R,
  ) {}

  offer(seq: number, bytes: Buffer): void {
    if (seq <= this.last) {
      // Already published, or a late arrival of a skipped seq: publish that one, out of order.
      if (this.skipped.delete(seq)) this.hooks.publish(bytes, this.room);
      return;
    }
    if (seq !== this.last + 1) {
      this.held.set(seq, bytes);
      this.gapTimer ??= setTimeout(() => void this.closeGap(), this.gapMs);
      return;
    }
    this.hooks.publish(bytes, this.room);
    this.last = seq;
    this.drain();
    this.hooks.onAdvance(this.room);
  }

  /** Move `last` forward to `seq` without publishing (seqs nobody here needs); later arrivals count as late. */
  skipTo(seq: number): void {
    for (let s = this.last + 1; s <= seq; s++) if (!this.held.has(s)) this.remember(s);
    for (const [s, bytes] of [...this.held].filter(([s]) => s <= seq).sort((a, b) => a[0] - b[0])) {
      this.held.delete(s);
      this.hooks.publish(bytes, this.room);
    }
    this.last = Math.max(this.last, seq);
    this.drain();
    this.hooks.onAdvance(this.room);
  }

  /** Events may have been lost (the bus had a gap): publish whatever is stored after `last`. */
  async catchUp(): Promise<void> {
    await this.loadInto(this.last + 1, this.openBelow(Number.MAX_SAFE_INTEGER) - 1);
  }

  /**
   * Publishes what is stored up to `upTo` and not yet published (a connection joining by replay saw
   * it in the database; the bus has not brought it), short of a seq this process is about to announce.
   */
  async fillTo(upTo: number): Promise<void> {
    await this.loadInto(this.last + 1, this.openBelow(upTo + 1) - 1);
  }

  /** Whether a seq up to `upTo` is still to be announced by a send of this process (and may still be waited for). */
  awaitsAnnounce(upTo: number): boolean {
    return this.openBelow(upTo + 1) <= upTo;
  }

  dispose(): void {
    this.disposed = true;
    clearTimeout(this.gapTimer);
    this.held.clear();
  }

  private drain(): void {
    while (this.held.has(this.last + 1)) {
      this.last += 1;
      this.hooks.publish(this.held.get(this.last)!, this.room);
      this.held.delete(this.last);
    }
    if (this.held.size === 0) {
      clearTimeout(this.gapTimer);
      this.gapTimer = undefined;
    }
  }

  private async closeGap(): Promise<void> {
    this.gapTimer = undefined;
    if (this.held.size === 0 || this.disposed) return;
    await this.loadInto(this.last + 1, this.openBelow(this.lowestHeld()) - 1);
    if (this.disposed) return;
    if (this.held.size === 0) return this.hooks.gap?.('filled', this.room);
    // Skip what the store could not fill, up to the first held frame or unannounced seq.
    const held = this.lowestHeld();
    const next = this.openBelow(held);
    for (let s = this.last + 1; s < next; s++) this.remember(s);
    this.hooks.gap?.(next < held ? 'waiting' : next > this.last + 1 ? 'skipped' : 'filled', this.room);
    this.last = Math.max(this.last, next - 1);
    this.drain();
    this.hooks.onAdvance(this.room);
    if (this.held.size) this.gapTimer ??= setTimeout(() => void this.closeGap(), this.gapMs);
  }

  /** A loop, not Math.min(...keys): a busy room can hold more frames than a call takes arguments. */
  private lowestHeld(): number {
    let lowest = Infinity;
    for (const seq of this.held.keys()) if (seq < lowest) lowest = seq;
    return lowest;
  }

  /** `limit`, or the lowest seq below it that is committed here and still to be announced (for up to maxWaitMs). */
  private openBelow(limit: number): number {
    const mine = this.hooks.unannounced?.(this.last + 1, limit - 1, this.room);
    if (mine === undefined) return limit;
    const now = Date.now();
    if (this.waiting?.seq !== mine) this.waiting = { seq: mine, since: now };
    return now - this.waiting.since < this.maxWaitMs ? mine : limit;
  }

  private async loadInto(from: number, to: number): Promise<void> {
    if (this.loading || from > to) return;
    this.loading = true;
    try {
      // Page after page: a long bus outage in a busy room leaves a gap of more than one page.
      for (let next = from; next <= to && !this.disposed;) {
        const page = await this.hooks.load(next, to, this.room);
        if (page.length === 0) break;
        for (const found of page) if (!this.disposed) this.offer(found.seq, found.bytes);
        next = page[page.length - 1]!.seq + 1;
      }
    } catch {
      // Nothing to add: the gap is skipped, and late arrivals are still published.
    } finally {
      this.loading = false;
    }
  }

  private remember(seq: number): void {
    this.skipped.add(seq);
    if (this.skipped.size > MAX_SKIPPED) this.skipped.delete(this.skipped.values().next().value!);
  }
}

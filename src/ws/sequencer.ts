/**
 * Per-room ordering of live `message.created` frames on one node. Events reach a node in commit
 * order only roughly (two API nodes, or two transactions finishing in either order), so frames
 * are published to the room topic strictly by `seq`: the next one goes out at once, a later one
 * waits for the gap to fill. A gap that does not fill within `gapMs` is skipped (the skipped seqs
 * are still published if they turn up later, so they are late but never lost).
 *
 * `last` is the highest seq such that every seq up to it was published (or skipped); a room only
 * has a sequencer while some local connection is live in it.
 */
const MAX_SKIPPED = 10_000;

export class Sequencer {
  private readonly held = new Map<number, Buffer>();
  private readonly skipped = new Set<number>();
  private gapTimer?: NodeJS.Timeout;

  constructor(
    public last: number,
    private readonly publish: (bytes: Buffer) => void,
    private readonly onAdvance: () => void,
    private readonly gapMs: number,
  ) {}

  offer(seq: number, bytes: Buffer): void {
    if (seq <= this.last) {
      // Already published, or a late arrival of a skipped seq: publish that one, out of order.
      if (this.skipped.delete(seq)) this.publish(bytes);
      return;
    }
    if (seq !== this.last + 1) {
      this.held.set(seq, bytes);
      this.gapTimer ??= setTimeout(() => this.skipGap(), this.gapMs);
      return;
    }
    this.publish(bytes);
    this.last = seq;
    this.drain();
    this.onAdvance();
  }

  /** Move `last` forward to `seq` without publishing (seqs nobody here needs); later arrivals count as late. */
  skipTo(seq: number): void {
    for (let s = this.last + 1; s <= seq; s++) if (!this.held.has(s)) this.remember(s);
    for (const [s, bytes] of [...this.held].filter(([s]) => s <= seq).sort((a, b) => a[0] - b[0])) {
      this.held.delete(s);
      this.publish(bytes);
    }
    this.last = Math.max(this.last, seq);
    this.drain();
    this.onAdvance();
  }

  dispose(): void {
    clearTimeout(this.gapTimer);
    this.held.clear();
  }

  private drain(): void {
    while (this.held.has(this.last + 1)) {
      this.last += 1;
      this.publish(this.held.get(this.last)!);
      this.held.delete(this.last);
    }
    if (this.held.size === 0) {
      clearTimeout(this.gapTimer);
      this.gapTimer = undefined;
    }
  }

  private skipGap(): void {
    this.gapTimer = undefined;
    if (this.held.size === 0) return;
    const next = Math.min(...this.held.keys());
    for (let s = this.last + 1; s < next; s++) this.remember(s);
    this.last = next - 1;
    this.drain();
    this.onAdvance();
    if (this.held.size) this.gapTimer = setTimeout(() => this.skipGap(), this.gapMs);
  }

  private remember(seq: number): void {
    this.skipped.add(seq);
    if (this.skipped.size > MAX_SKIPPED) this.skipped.delete(this.skipped.values().next().value!);
  }
}

/**
 * Admission of WebSocket sends into the durable send path.
 *
 * A send handed to the domain is a chain of live objects until it is answered: the frame's parse,
 * the domain call waiting on the group commit, its row, promises and closures (about 5 KB on this
 * node, measured with a heap snapshot under load). At saturation the group commit's queue holds
 * every send the clients have in flight (500 rooms × a window of 4: ~2,000), each waiting about as
 * long as several young-generation collections, so all of that survives them: V8 copies it twice
 * and promotes it, and the scavenges then cost a fifth of the node's time.
 *
 * So the node submits at most `capacity` sends at once (enough for the batch committing and a full
 * next batch behind it: the writer never waits); a connection whose run of sends finds the gate
 * full waits, first come first served, with its frames as the text they arrived as (its backlog in
 * dispatch.ts), and submits them when earlier sends are answered. Order, answers and durability
 * do not change; a run bigger than what is free is admitted when nothing else is in (never stuck).
 */
export class SendAdmission {
  private used = 0;
  private readonly waiters: { places: () => number; resolve: (n: number) => void }[] = [];
  private head = 0;

  constructor(readonly capacity: number) {}

  /**
   * Takes places for a connection's sends: how many is asked (`places`) when it is admitted, so
   * frames that arrive while it waits are counted with it. A number when admitted at once (no
   * promise made), else a promise of that number.
   */
  acquire(places: () => number): number | Promise<number> {
    if (this.head === this.waiters.length && this.used < this.capacity) {
      const n = places();
      this.used += n;
      return n;
    }
    return new Promise<number>((resolve) => this.waiters.push({ places, resolve }));
  }

  /** Takes `n` more places (or gives -n back) without waiting. */
  adjust(n: number): void {
    if (n < 0) this.release(-n);
    else this.used += n;
  }

  /** Gives `n` places back and admits waiters, in arrival order, while places are free. */
  release(n: number): void {
    this.used -= n;
    while (this.head < this.waiters.length && this.used < this.capacity) {
      const w = this.waiters[this.head]!;
      this.waiters[this.head++] = undefined as never;
      const taken = w.places();
      this.used += taken;
      w.resolve(taken);
    }
    if (this.head === this.waiters.length) {
      this.waiters.length = 0;
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.waiters.length) {
      // Never drained under a lasting overload: drop the admitted front now and then, not per waiter.
      this.waiters.splice(0, this.head);
      this.head = 0;
    }
  }

  /** Sends submitted and not yet answered. */
  get inUse(): number {
    return this.used;
  }

  /** Connections waiting to be admitted. */
  get waiting(): number {
    return this.waiters.length - this.head;
  }
}

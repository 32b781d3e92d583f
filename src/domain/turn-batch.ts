/**
 * Reads asked for within one turn of the event loop, answered together: `load(group, key)` collects
 * keys per group until the turn ends (setImmediate), then `fetch(group, keys)` runs once per group
 * (in chunks of CHUNK keys) and every caller gets its key's value. A read always runs after it was
 * asked for, never from a cache, so it sees everything committed before the call. Used where many
 * callers ask the same kind of point query at once (thousands of WebSocket clients connecting):
 * per-query overhead, not the query, was most of the cost.
 */
/** Keys per query (well under SQLite's and MySQL's bound-parameter limits). */
export const CHUNK = 500;

/** Collects keys per group over one turn, then fetches each group's keys in chunks. */
export class TurnBatch<V> {
  private waiting = new Map<string, Map<string, ((v: V) => void)[]>>();
  private failing = new Map<string, ((err: unknown) => void)[]>();
  private scheduled = false;

  constructor(private readonly fetch: (group: string, keys: string[]) => Promise<Map<string, V>>, private readonly missing: V) {}

  load(group: string, key: string): Promise<V> {
    return new Promise<V>((resolve, reject) => {
      let keys = this.waiting.get(group);
      if (!keys) this.waiting.set(group, (keys = new Map()));
      const waiters = keys.get(key);
      if (waiters) waiters.push(resolve);
      else keys.set(key, [resolve]);
      const rejects = this.failing.get(group);
      if (rejects) rejects.push(reject);
      else this.failing.set(group, [reject]);
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    const waiting = this.waiting;
    const failing = this.failing;
    this.waiting = new Map();
    this.failing = new Map();
    this.scheduled = false;
    for (const [group, keys] of waiting) {
      const all = [...keys.keys()];
      const chunks: Promise<void>[] = [];
      for (let i = 0; i < all.length; i += CHUNK) {
        const part = all.slice(i, i + CHUNK);
        chunks.push(this.fetch(group, part).then((found) => {
          for (const key of part) for (const resolve of keys.get(key)!) resolve(found.get(key) ?? this.missing);
        }));
      }
      // A failed chunk fails every waiter of the group (settling an already resolved promise is a no-op).
      Promise.all(chunks).catch((err) => failing.get(group)!.forEach((reject) => reject(err)));
    }
  }
}


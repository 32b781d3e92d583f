/**
 * Reads asked for within one turn of the event loop, answered together (DataLoader, one loader per
 * group): `load(group, key)` collects keys per group until the turn ends (setImmediate), then
 * `fetch(group, keys)` runs once per group (in chunks of CHUNK distinct keys) and every caller gets
 * its key's value. A read always runs after it was asked for, never from an earlier turn's answer
 * (each batch empties its loader's cache as it starts, so the cache only joins the callers of one
 * turn), and sees everything committed before the call. Used where many callers ask the same kind
 * of point query at once (thousands of WebSocket clients connecting): per-query overhead, not the
 * query, was most of the cost.
 */
import DataLoader from 'dataloader';

/** Keys per query (well under SQLite's and MySQL's bound-parameter limits). */
export const CHUNK = 500;

const endOfTurn = (dispatch: () => void) => setImmediate(dispatch);

export class TurnBatch<V> {
  private readonly loaders = new Map<string, DataLoader<string, V>>();

  constructor(private readonly fetch: (group: string, keys: string[]) => Promise<Map<string, V>>, private readonly missing: V) {}

  load(group: string, key: string): Promise<V> {
    let loader = this.loaders.get(group);
    if (!loader) {
      const own: DataLoader<string, V> = new DataLoader(async (keys) => {
        own.clearAll(); // callers from now on are a new batch: read afresh
        const found = await this.fetch(group, [...keys]);
        return keys.map((k) => (found.has(k) ? found.get(k)! : this.missing));
      }, { maxBatchSize: CHUNK, batchScheduleFn: endOfTurn });
      this.loaders.set(group, (loader = own));
    }
    return loader.load(key);
  }
}

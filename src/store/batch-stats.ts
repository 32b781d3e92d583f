/**
 * Where a database's send batches report their size and commit time (metrics.ts listens; the
 * store itself knows nothing of Prometheus). Listeners are per database handle.
 */
import type { Knex } from 'knex';
import type { BatchStats } from './group-commit.ts';

type Listener = (size: number, seconds: number, overlapped: boolean) => void;
const listeners = new WeakMap<Knex, Set<Listener>>();

/** Calls `fn` after every send batch on `knex`; returns the function that stops it. */
export function onSendBatch(knex: Knex, fn: Listener): () => void {
  let set = listeners.get(knex);
  if (!set) listeners.set(knex, (set = new Set()));
  set.add(fn);
  return () => void set.delete(fn);
}

export function batchStatsFor(knex: Knex): BatchStats {
  return { onBatch: (size, seconds, overlapped) => listeners.get(knex)?.forEach((fn) => fn(size, seconds, overlapped)) };
}

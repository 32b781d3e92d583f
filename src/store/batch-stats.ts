/**
 * Where the send batches report their size and commit time (metrics.ts listens). One listener per
 * process; the store itself knows nothing of Prometheus.
 */
import type { BatchStats } from './group-commit.ts';

let listener: ((size: number, seconds: number) => void) | undefined;

export const batchStats: BatchStats = {
  onBatch: (size, seconds) => listener?.(size, seconds),
};

export function onSendBatch(fn: ((size: number, seconds: number) => void) | undefined): void {
  listener = fn;
}

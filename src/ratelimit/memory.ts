/**
 * In-process token buckets: one number (tat) per tenant in a Map. Synchronous math, no timers.
 * Entries whose bucket is full again carry no information and are swept lazily.
 */
import { type BucketDecision, type BucketLimits, assertLimits, step } from './bucket.ts';

export type Clock = () => number;

const SWEEP_EVERY_MS = 30_000;

export class MemoryBuckets {
  private readonly tats = new Map<string, number>();
  private lastSweep: number;

  constructor(private readonly now: Clock = Date.now) {
    this.lastSweep = now();
  }

  consume(key: string, limits: BucketLimits): BucketDecision {
    return this.apply(key, limits, 1);
  }

  peek(key: string, limits: BucketLimits): BucketDecision {
    return this.apply(key, limits, 0);
  }

  /** Number of tenants with a non-full bucket (for tests and metrics). */
  get size(): number {
    return this.tats.size;
  }

  clear(): void {
    this.tats.clear();
  }

  private apply(key: string, limits: BucketLimits, cost: number): BucketDecision {
    assertLimits(limits);
    const now = this.now();
    if (now - this.lastSweep >= SWEEP_EVERY_MS) this.sweep(now);
    const result = step(this.tats.get(key) ?? 0, now, limits, cost);
    if (result.tat !== null) this.tats.set(key, result.tat);
    return result.decision;
  }

  /** Drops buckets that have refilled completely (tat in the past = full bucket). */
  private sweep(now: number): void {
    this.lastSweep = now;
    for (const [key, tat] of this.tats) if (tat <= now) this.tats.delete(key);
  }
}

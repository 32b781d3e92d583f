/**
 * In-process bus: fan-out of events within one process (the default when no REDIS_URL).
 * Delivery is asynchronous (a microtask) but in publish order, so a subscriber never runs inside
 * the publisher's call stack and a throwing subscriber cannot break a send or other subscribers.
 */
import type { Bus, BusEvent } from './types.ts';
import { Unannounced } from './unannounced.ts';

export type { Bus, BusEvent } from './types.ts';

interface ErrorLog {
  error(obj: object, msg?: string): void;
}

/** The local half of every bus: a subscriber set with isolated, ordered, asynchronous delivery. */
export class LocalFanout {
  private readonly subscribers = new Set<(evt: BusEvent) => void>();

  constructor(private readonly log?: ErrorLog) {}

  deliver(evt: BusEvent): void {
    // Snapshot now: a subscriber added after publish does not see this event.
    const targets = [...this.subscribers];
    queueMicrotask(() => {
      for (const fn of targets) {
        try {
          fn(evt);
        } catch (err) {
          this.log?.error({ err, event: evt.type }, 'bus subscriber failed');
        }
      }
    });
  }

  subscribe(fn: (evt: BusEvent) => void): () => void {
    this.subscribers.add(fn);
    return () => void this.subscribers.delete(fn);
  }

  clear(): void {
    this.subscribers.clear();
  }
}

export function createMemoryBus(log?: ErrorLog): Bus {
  const local = new LocalFanout(log);
  let closed = false;
  return {
    publish(evt) {
      if (!closed) local.deliver(evt);
    },
    subscribe: (fn) => local.subscribe(fn),
    onGap: () => () => {},
    unannounced: new Unannounced(),
    mode: () => 'memory',
    async close() {
      closed = true;
      local.clear();
    },
  };
}

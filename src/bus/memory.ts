/**
 * In-process bus: fan-out of events within one process (the default when no REDIS_URL).
 * Delivery is asynchronous (a microtask) but in publish order, so a subscriber never runs inside
 * the publisher's call stack and a throwing subscriber cannot break a send or other subscribers.
 */
import type { Bus, BusEvent, Subscriber } from './types.ts';
import { Unannounced } from './unannounced.ts';

export type { Bus, BusEvent } from './types.ts';

interface ErrorLog {
  error(obj: object, msg?: string): void;
}

/** The local half of every bus: a subscriber set with isolated, ordered, asynchronous delivery. */
export class LocalFanout {
  private readonly subscribers = new Set<Subscriber>();

  constructor(private readonly log?: ErrorLog) {}

  /** `local`: published by this process (the very object it published), not received from another. */
  deliver(evt: BusEvent, local: boolean): void {
    // Snapshot now: a subscriber added after publish does not see this event.
    const targets = [...this.subscribers];
    queueMicrotask(() => {
      for (const fn of targets) {
        try {
          fn(evt, local);
        } catch (err) {
          this.log?.error({ err, event: evt.type }, 'bus subscriber failed');
        }
      }
    });
  }

  subscribe(fn: Subscriber): () => void {
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
      if (!closed) local.deliver(evt, true);
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

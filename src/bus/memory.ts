/**
 * In-process bus: fan-out of domain events within one process (the default when no REDIS_URL).
 * Delivery is asynchronous (a microtask) but in publish order, so a subscriber never runs inside
 * the publisher's call stack and a throwing subscriber cannot break a send or other subscribers.
 */
import type { DomainEvent } from '../domain/events.ts';

export type BusEvent = DomainEvent;

export interface Bus {
  publish(evt: BusEvent): void;
  subscribe(fn: (evt: BusEvent) => void): () => void;
  close(): Promise<void>;
}

interface BusLog {
  error(obj: object, msg?: string): void;
}

export function createMemoryBus(log?: BusLog): Bus {
  const subscribers = new Set<(evt: BusEvent) => void>();
  let closed = false;
  return {
    publish(evt) {
      if (closed) return;
      // Snapshot now: a subscriber added after publish does not see this event.
      const targets = [...subscribers];
      queueMicrotask(() => {
        for (const fn of targets) {
          try {
            fn(evt);
          } catch (err) {
            log?.error({ err, event: evt.type }, 'bus subscriber failed');
          }
        }
      });
    },
    subscribe(fn) {
      subscribers.add(fn);
      return () => void subscribers.delete(fn);
    },
    async close() {
      closed = true;
      subscribers.clear();
    },
  };
}

/**
 * What travels on the bus: every domain event (src/domain/events.ts) plus the realtime node's own
 * node-to-node events (presence, typing). Every event names its tenant and room(s), so a node can
 * route it to topics without looking further.
 */
import type { DomainEvent } from '../domain/events.ts';
import type { Unannounced } from './unannounced.ts';

/** A user came online (first connection anywhere) or went offline (none anywhere after the grace period). */
export type PresenceEvent = {
  type: 'presence';
  tenant_id: string;
  user_id: string;
  status: 'online' | 'offline';
  /** The user's rooms: the event is shown to the members of each. */
  room_ids: string[];
};

export type TypingEvent = {
  type: 'typing';
  tenant_id: string;
  room_id: string;
  user_id: string;
  state: 'started' | 'stopped';
};

export type BusEvent = DomainEvent | PresenceEvent | TypingEvent;

/**
 * Gets every event, this process's own too. `local`: this process published it, and `evt` is the
 * very object it published (so what the publisher knows of that object, e.g. whether the store
 * wrote an outbox row for it, holds); otherwise it came from another process, parsed anew.
 */
export type Subscriber = (evt: BusEvent, local: boolean) => void;

export interface Bus {
  /** Fire-and-forget; delivered to this process's subscribers too (asynchronously, in publish order). */
  publish(evt: BusEvent): void;
  subscribe(fn: Subscriber): () => void;
  /** Called when delivery may have had a gap (the Redis subscription dropped and came back). */
  onGap(fn: () => void): () => void;
  /** This process's committed messages whose announcement is still waiting (bus/unannounced.ts). */
  readonly unannounced: Unannounced;
  /** 'memory', 'redis', or 'redis-degraded' while the Redis connection is down. */
  mode(): 'memory' | 'redis' | 'redis-degraded';
  close(): Promise<void>;
}

export interface BusLog {
  error(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
}

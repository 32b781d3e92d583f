/** What every domain module shares: the database, the clock, and a safe publish. */
import type { Knex } from 'knex';
import type { DomainEvent } from './events.ts';
import type { DomainConfig, DomainDeps, DomainLog } from './types.ts';

export interface Ctx {
  db: Knex;
  config: DomainConfig;
  log: DomainLog;
  now(): number;
  /** Call only after the change has committed. A bus failure must not fail the (durable) write. */
  publish(evt: DomainEvent): void;
}

export function createCtx(deps: DomainDeps): Ctx {
  const { db, bus, config, log } = deps;
  return {
    db,
    config,
    log,
    now: deps.now ?? Date.now,
    publish(evt) {
      try {
        bus.publish(evt);
      } catch (err) {
        log.error({ err, event: evt.type, room_id: 'room_id' in evt ? evt.room_id : undefined }, 'bus publish failed');
      }
    },
  };
}

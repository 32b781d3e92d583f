/** What every domain module shares: the database, the clock, and the outbox-backed event path. */
import type { Knex } from 'knex';
import { inTransaction } from '../store/db.ts';
import { appendOutbox } from '../store/outbox.ts';
import type { DomainEvent } from './events.ts';
import type { DomainConfig, DomainDeps, DomainLog } from './types.ts';
import { argon2Hasher, type PasswordHasher } from './passwords.ts';
import type { AttemptLimiterFactory } from './attempts.ts';
import type { Mailer } from './mailer.ts';
import { createAttemptLimiters } from '../ratelimit/attempts.ts';

export type Emit = (evt: DomainEvent) => void;

export interface Ctx {
  db: Knex;
  config: DomainConfig;
  log: DomainLog;
  now(): number;
  /**
   * Runs a change in one transaction: every event `emit`ted by `fn` is written to the outbox
   * (src/store/outbox.ts) before COMMIT, so it exists if and only if the change committed, and
   * is published on the bus after COMMIT. Re-run whole on deadlocks (events of a failed attempt are dropped).
   */
  change<T>(fn: (trx: Knex.Transaction, emit: Emit) => Promise<T>): Promise<T>;
  /** Publishes events already in the outbox (written by a transaction that has committed). */
  announce(events: readonly DomainEvent[]): void;
  /**
   * A committed message whose announce waits (a pipelined WebSocket send waiting for its turn):
   * this process's sequencers leave its seq open until the returned function is called.
   */
  holdAnnounce(tenantId: string, roomId: string, seq: number): () => void;
  /**
   * For a change committed without `change()`: writes the event to the outbox after the fact
   * (not atomically: prefer `change()`) and publishes it. A bus failure must not fail the write.
   */
  publish(evt: DomainEvent): void;
  hasher: PasswordHasher;
  attempts: AttemptLimiterFactory;
  mailer: Mailer;
}

const noop = () => {};

export function createCtx(deps: DomainDeps): Ctx {
  const { db, bus, config, log } = deps;
  const now = deps.now ?? Date.now;
  const announce = (events: readonly DomainEvent[]) => {
    for (const evt of events) {
      try {
        bus.publish(evt);
      } catch (err) {
        log.error({ err, event: evt.type, room_id: evt.room_id ?? undefined }, 'bus publish failed');
      }
    }
  };
  return {
    db,
    config,
    log,
    hasher: deps.hasher ?? argon2Hasher({
      memoryKib: config.argon2MemoryKib ?? 19456, timeCost: config.argon2TimeCost ?? 2, parallelism: config.argon2Parallelism ?? 1,
    }),
    attempts: deps.attempts ?? memoryAttempts(),
    mailer: deps.mailer ?? {
      async send(mail) {
        log.warn({ to: mail.to, subject: mail.subject, text: mail.text }, '!!! SMTP_URL is not set: this mail was NOT sent; it is logged for local runs only !!!');
      },
    },
    now,
    announce,
    holdAnnounce: (tenantId, roomId, seq) => bus.unannounced?.hold(tenantId, roomId, seq) ?? noop,
    async change(fn) {
      let events: DomainEvent[] = [];
      const result = await inTransaction(db, async (trx) => {
        events = [];
        const out = await fn(trx, (evt) => events.push(evt));
        await appendOutbox(trx, events, now());
        return out;
      });
      announce(events);
      return result;
    },
    publish(evt) {
      appendOutbox(db, [evt], now()).catch((err) => log.error({ err, event: evt.type }, 'outbox write failed'));
      announce([evt]);
    },
  };
}

function memoryAttempts(): AttemptLimiterFactory {
  const limiters = createAttemptLimiters();
  return (name, limits) => limiters.limiter(name, limits);
}

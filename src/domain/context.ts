/** What every domain module shares: the database, the clock, and a safe publish. */
import type { Knex } from 'knex';
import type { DomainEvent } from './events.ts';
import type { DomainConfig, DomainDeps, DomainLog } from './types.ts';
import { argon2Hasher, type PasswordHasher } from './passwords.ts';
import type { AttemptLimiterFactory } from './attempts.ts';
import type { Mailer } from './mailer.ts';
import { createAttemptLimiters } from '../ratelimit/attempts.ts';

export interface Ctx {
  db: Knex;
  config: DomainConfig;
  log: DomainLog;
  now(): number;
  /** Call only after the change has committed. A bus failure must not fail the (durable) write. */
  publish(evt: DomainEvent): void;
  hasher: PasswordHasher;
  attempts: AttemptLimiterFactory;
  mailer: Mailer;
}

export function createCtx(deps: DomainDeps): Ctx {
  const { db, bus, config, log } = deps;
  return {
    db,
    config,
    log,
    now: deps.now ?? Date.now,
    hasher: deps.hasher ?? argon2Hasher({
      memoryKib: config.argon2MemoryKib ?? 19456, timeCost: config.argon2TimeCost ?? 2, parallelism: config.argon2Parallelism ?? 1,
    }),
    attempts: deps.attempts ?? memoryAttempts(),
    mailer: deps.mailer ?? {
      async send(mail) {
        log.warn({ to: mail.to, subject: mail.subject, text: mail.text }, '!!! SMTP_URL is not set: this mail was NOT sent; it is logged for local runs only !!!');
      },
    },
    publish(evt) {
      try {
        bus.publish(evt);
      } catch (err) {
        log.error({ err, event: evt.type, room_id: 'room_id' in evt ? evt.room_id : undefined }, 'bus publish failed');
      }
    },
  };
}

function memoryAttempts(): AttemptLimiterFactory {
  const limiters = createAttemptLimiters();
  return (name, limits) => limiters.limiter(name, limits);
}

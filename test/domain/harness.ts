/**
 * Shared setup for domain tests: a fresh database of one backend, the domain on top of it with a
 * recording event sink and a clock the test can move, and quick ways to make tenants and users.
 */
import assert from 'node:assert/strict';
import type { Knex } from 'knex';
import { createDomain, type Caller, type Domain, type DomainEvent, type UserCaller } from '../../src/domain/index.ts';
import { DomainError, type ErrorCode } from '../../src/domain/errors.ts';
import type { Role } from '../../src/domain/shapes.ts';
import { closeDatabase, migrate, openDatabase } from '../../src/store/db.ts';
import type { Backend } from '../helpers/backends.ts';

export const config = { jwtIssuer: 'chatapi-test', rateLimitPerSecond: 100, rateLimitBurst: 100 };
const silent = { warn() {}, error() {} };

export interface TestTenant {
  id: string;
  apiKey: string;
  caller: Caller;
  /** Creates a user and returns a caller acting as them (X-API-Key + X-User-Id). */
  user(id: string, role?: Role): Promise<UserCaller>;
}

export interface DomainHarness {
  db: Knex;
  domain: Domain;
  events: DomainEvent[];
  clock: { now: number; advance(ms: number): void };
  tenant(name?: string): Promise<TestTenant>;
  close(): Promise<void>;
}

export async function openHarness(backend: Backend): Promise<DomainHarness> {
  const target = await backend.url();
  const db = await openDatabase(target.url);
  await migrate(db);
  const events: DomainEvent[] = [];
  const clock = { now: Date.now(), advance(ms: number) { clock.now += ms; } };
  const domain = createDomain({ db, bus: { publish: (e) => events.push(e) }, config, log: silent, now: () => clock.now });
  const tenant = async (name = 'test tenant'): Promise<TestTenant> => {
    const { tenant: t, api_key } = await domain.tenants.create({ name });
    const caller: Caller = { kind: 'tenant', tenantId: t.id };
    return {
      id: t.id,
      apiKey: api_key,
      caller,
      async user(id, role = 'user') {
        const user = await domain.users.create(caller, { id, username: id, role });
        return { kind: 'user', tenantId: t.id, user, via: 'key' };
      },
    };
  };
  return {
    db, domain, events, clock, tenant,
    async close() {
      await closeDatabase(db);
      await target.drop();
    },
  };
}

/** Awaits `p` and checks it failed with a DomainError of `code`; returns the error for more checks. */
export async function rejectsWith(p: Promise<unknown>, code: ErrorCode): Promise<DomainError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof DomainError, `expected DomainError ${code}, got ${String(err)}`);
    assert.equal(err.code, code, `expected ${code}, got ${err.code}: ${err.message}`);
    return err;
  }
  assert.fail(`expected DomainError ${code}, but the call succeeded`);
}

/** Re-reads a user so a caller reflects changed permissions (the HTTP layer resolves per request). */
export async function refreshed(domain: Domain, caller: UserCaller): Promise<UserCaller> {
  return { ...caller, user: await domain.users.get(caller, caller.user.id) };
}

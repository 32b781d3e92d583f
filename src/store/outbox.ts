/**
 * The transactional outbox: `appendOutbox(trx, events)` is called by every change's transaction,
 * so an event row exists if and only if its change committed. Dispatchers (src/outbox/) turn rows
 * into webhook deliveries. Any event works: the payload is the event as its WebSocket frame (the
 * event minus `tenant_id`), so new event types need no change here.
 *
 * Only events some endpoint would receive are written (the gate, OutboxGate below). The outbox
 * exists for webhooks alone, and most tenants have none: writing every message, receipt and
 * presence change anyway cost each send an outbox INSERT (a third of its transaction) and the
 * worker a read and an UPDATE per event to throw it away. The rule, for every event type:
 *
 *   an event is written iff, when its transaction commits, its tenant has an endpoint that is
 *   enabled (or disabled by chatapi after failures: its deliveries wait for re-enabling) whose
 *   event types and rooms match it.
 *
 * So an endpoint receives the events committed after it was created (or enabled, or its filters
 * widened), and none committed before: the dispatcher keeps an endpoint from the events written for
 * an older one of the same tenant by the outbox position it recorded at its creation
 * (src/outbox/dispatch.ts, insertWebhook in webhooks.ts), not by time. Race-free because the
 * endpoints are read inside the change's transaction: on SQLite under the one writer's lock (a
 * createWebhook commits before or after the whole transaction); on MySQL/MariaDB with a locking
 * read (LOCK IN SHARE MODE over the tenant's range of the webhooks (tenant_id, …) index), so an
 * endpoint committed before the read is seen, and one inserted, changed or deleted meanwhile waits
 * for this transaction's COMMIT. Read once per tenant per transaction (a send batch: once per batch).
 */
import type { Knex } from 'knex';
import { roomMatches, typeMatches } from '../outbox/filters.ts';
import { driver, inTransaction, type Db } from './db.ts';
import { uuidv7Hex } from './ordered-id.ts';

/** What the outbox needs of an event: its type, tenant and (optionally) room; the rest is the payload. */
export interface OutboxEvent {
  type: string;
  tenant_id: string;
  room_id?: string | null;
}

export interface OutboxRow {
  pk: number;
  id: string;
  tenant_id: string;
  room_id: string | null;
  type: string;
  payload: string;
  created_at: number;
  dispatched_at: number | null;
}

export type NewOutboxRow = Omit<OutboxRow, 'pk'>;

/** The frame of an event: everything but the tenant, which the receiver knows from its endpoint. */
export function eventPayload(evt: OutboxEvent): Record<string, unknown> {
  const { tenant_id: _tenant, ...frame } = evt as OutboxEvent & Record<string, unknown>;
  return frame;
}

/** Payload texts by event object, so the realtime node can publish the same bytes (payloadText). */
const payloads = new WeakMap<OutboxEvent, string>();

export function outboxRow(evt: OutboxEvent, now: number): NewOutboxRow {
  const payload = JSON.stringify(eventPayload(evt));
  payloads.set(evt, payload);
  return {
    id: 'evt_' + uuidv7Hex(), // time-ordered: appends to the id index (ordered-id.ts)
    tenant_id: evt.tenant_id,
    room_id: typeof evt.room_id === 'string' ? evt.room_id : null,
    type: evt.type,
    payload,
    created_at: now,
    dispatched_at: null,
  };
}

/**
 * The payload text already written for this very event object (the event as its WebSocket frame,
 * see eventPayload), or undefined: a message is serialized once, for the outbox and the wire.
 */
export function payloadText(evt: object): string | undefined {
  return payloads.get(evt as OutboxEvent);
}

/** What the gate reads of each endpoint of the tenants at hand. */
export interface GateRow {
  tenant_id: string;
  event_types: string; // JSON array of patterns
  room_ids: string | null; // JSON array, or NULL for every room
  enabled: boolean | number;
  disabled_reason: string | null;
}

export const GATE_COLUMNS = ['tenant_id', 'event_types', 'room_ids', 'enabled', 'disabled_reason'] as const;

interface Subscription {
  types: string[];
  rooms: string[] | null;
}

/**
 * Which events some endpoint would receive, from the tenants' endpoints read in the writing
 * transaction (the rule at the top of this file). Endpoints their owner disabled receive nothing
 * (the dispatcher queues nothing for them), so they do not count.
 */
export class OutboxGate {
  private readonly byTenant = new Map<string, Subscription[]>();

  constructor(rows: readonly GateRow[]) {
    for (const r of rows) {
      if (!Number(r.enabled) && r.disabled_reason === null) continue;
      const sub = { types: JSON.parse(r.event_types) as string[], rooms: r.room_ids === null ? null : (JSON.parse(r.room_ids) as string[]) };
      const subs = this.byTenant.get(r.tenant_id);
      if (subs) subs.push(sub);
      else this.byTenant.set(r.tenant_id, [sub]);
    }
  }

  /** Whether the tenant has an endpoint that receives anything (if not, no event of it is written). */
  any(tenantId: string): boolean {
    return this.byTenant.has(tenantId);
  }

  wants(evt: OutboxEvent): boolean {
    const subs = this.byTenant.get(evt.tenant_id);
    if (!subs) return false;
    const room = typeof evt.room_id === 'string' ? evt.room_id : null;
    return subs.some((s) => typeMatches(s.types, evt.type) && roomMatches(s.rooms, room));
  }
}

/** The gate's read inside the caller's transaction: locking on MySQL (see the top of this file). */
export async function readGate(trx: Db, tenantIds: readonly string[]): Promise<OutboxGate> {
  if (tenantIds.length === 0) return new OutboxGate([]);
  const q = trx<GateRow>('webhooks').whereIn('tenant_id', [...tenantIds]).select(...GATE_COLUMNS);
  if (driver(trx) === 'mysql') q.forShare();
  return new OutboxGate(await q);
}

/** Rows per INSERT: knex writes a multi-row insert on SQLite as a compound SELECT, capped at 500 terms. */
const INSERT_CHUNK = 200;

/**
 * Writes the events some endpoint would receive (the gate) in the caller's transaction (call it
 * before COMMIT). Given no transaction, it runs one of its own, so the gate's read and the INSERT
 * still commit together.
 */
export async function appendOutbox(trx: Db, events: readonly OutboxEvent[], now: number): Promise<void> {
  if (events.length === 0) return;
  if (!(trx as Knex.Transaction).isTransaction) return inTransaction(trx as Knex, (t) => appendOutbox(t, events, now));
  const gate = await readGate(trx, [...new Set(events.map((e) => e.tenant_id))]);
  const kept = events.filter((e) => gate.wants(e));
  for (let i = 0; i < kept.length; i += INSERT_CHUNK) {
    await trx('outbox_events').insert(kept.slice(i, i + INSERT_CHUNK).map((e) => outboxRow(e, now)));
  }
}

/** The gate's read as raw SQL for one tenant, for the SQLite send path (inside its BEGIN IMMEDIATE). */
export const GATE_SQL = `SELECT ${GATE_COLUMNS.join(', ')} FROM webhooks WHERE tenant_id = ?`;

/** The same insert as raw SQL, for the SQLite send path that runs on the raw connection. */
export const OUTBOX_INSERT_SQL = `INSERT INTO outbox_events (id, tenant_id, room_id, type, payload, created_at, dispatched_at)
  VALUES (?, ?, ?, ?, ?, ?, NULL)`;

export function outboxParams(r: NewOutboxRow): unknown[] {
  return [r.id, r.tenant_id, r.room_id, r.type, r.payload, r.created_at];
}

const toRow = (r: OutboxRow): OutboxRow => ({
  ...r,
  pk: Number(r.pk),
  created_at: Number(r.created_at),
  dispatched_at: r.dispatched_at === null ? null : Number(r.dispatched_at),
});

/**
 * Takes the dispatch lock for this transaction: true if this node is now the only dispatcher,
 * false if another holds it (MySQL: FOR UPDATE SKIP LOCKED on the lock row). On SQLite there is
 * nothing to take: a second process that read the same events fails to commit (SQLITE_BUSY) and
 * its transaction is run again, seeing them dispatched.
 */
export async function takeDispatchLock(trx: Db): Promise<boolean> {
  if (driver(trx) !== 'mysql') return true;
  const rows = await trx('outbox_dispatch_lock').where({ id: 1 }).forUpdate().skipLocked().select('id');
  return rows.length > 0;
}

/** Whether any event waits to be dispatched (a plain read, so idle rounds write nothing). */
export async function anyUndispatched(db: Db): Promise<boolean> {
  return (await db('outbox_events').whereNull('dispatched_at').first('pk')) !== undefined;
}

/** The oldest events not dispatched yet, in commit order per room. */
export async function undispatched(trx: Db, limit: number): Promise<OutboxRow[]> {
  const rows = await trx<OutboxRow>('outbox_events').whereNull('dispatched_at').orderBy('pk', 'asc').limit(limit);
  return rows.map(toRow);
}

export async function markDispatched(trx: Db, pks: number[], now: number): Promise<void> {
  if (pks.length > 0) await trx('outbox_events').whereIn('pk', pks).update({ dispatched_at: now });
}

export async function findEvents(db: Db, ids: string[]): Promise<Map<string, OutboxRow>> {
  const out = new Map<string, OutboxRow>();
  if (ids.length === 0) return out;
  for (const r of await db<OutboxRow>('outbox_events').whereIn('id', ids)) out.set(r.id, toRow(r));
  return out;
}

/** Every event of a tenant after a pk, oldest first (tests and tools). */
export async function listEvents(db: Db, tenantId: string, afterPk = 0, limit = 1000): Promise<OutboxRow[]> {
  const rows = await db<OutboxRow>('outbox_events').where('tenant_id', tenantId).andWhere('pk', '>', afterPk).orderBy('pk', 'asc').limit(limit);
  return rows.map(toRow);
}

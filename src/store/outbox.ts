/**
 * The transactional outbox: `appendOutbox(trx, events)` is called by every change's transaction,
 * so an event row exists if and only if its change committed. Dispatchers (src/outbox/) turn rows
 * into webhook deliveries. Any event works: the payload is the event as its WebSocket frame (the
 * event minus `tenant_id`), so new event types need no change here.
 */
import { driver, type Db } from './db.ts';
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

/** Rows per INSERT: knex writes a multi-row insert on SQLite as a compound SELECT, capped at 500 terms. */
const INSERT_CHUNK = 200;

/** Writes the events in the caller's transaction (call it before COMMIT). */
export async function appendOutbox(trx: Db, events: readonly OutboxEvent[], now: number): Promise<void> {
  for (let i = 0; i < events.length; i += INSERT_CHUNK) {
    await trx('outbox_events').insert(events.slice(i, i + INSERT_CHUNK).map((e) => outboxRow(e, now)));
  }
}

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

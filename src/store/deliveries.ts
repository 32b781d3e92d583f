/**
 * Queries on `webhook_deliveries`: one row per (endpoint, event). Order is kept per lane (an
 * endpoint and a room): only the lane's earliest unfinished delivery may be tried, so a failing
 * event holds back the later events of its room for that endpoint while other lanes flow.
 */
import type { Knex } from 'knex';
import { driver, inTransaction, type Db } from './db.ts';

export type DeliveryStatus = 'pending' | 'failed' | 'succeeded' | 'dead';
export const UNFINISHED: DeliveryStatus[] = ['pending', 'failed'];

export interface DeliveryRow {
  pk: number;
  id: string;
  tenant_id: string;
  webhook_id: string;
  event_id: string;
  event_pk: number;
  event_type: string;
  lane: string; // room id, or '' for events of no room
  status: DeliveryStatus;
  attempts: number;
  next_attempt_at: number;
  lease_until: number | null;
  last_attempt_at: number | null;
  last_status_code: number | null;
  last_latency_ms: number | null;
  last_error: string | null;
  attempt_log: string | null; // JSON array of attempts
  created_at: number;
  updated_at: number;
}

export type NewDeliveryRow = Omit<DeliveryRow, 'pk'>;
export type DeliveryPatch = Partial<Omit<DeliveryRow, 'pk' | 'id' | 'tenant_id' | 'webhook_id' | 'event_id'>>;

const num = (v: number | null) => (v === null ? null : Number(v));
const toRow = (r: DeliveryRow): DeliveryRow => ({
  ...r,
  pk: Number(r.pk),
  event_pk: Number(r.event_pk),
  attempts: Number(r.attempts),
  next_attempt_at: Number(r.next_attempt_at),
  lease_until: num(r.lease_until),
  last_attempt_at: num(r.last_attempt_at),
  last_status_code: num(r.last_status_code),
  last_latency_ms: num(r.last_latency_ms),
  created_at: Number(r.created_at),
  updated_at: Number(r.updated_at),
});

export async function insertDeliveries(db: Db, rows: NewDeliveryRow[]): Promise<void> {
  for (let i = 0; i < rows.length; i += 200) await db('webhook_deliveries').insert(rows.slice(i, i + 200));
}

/**
 * The deliveries that may be tried now: due, not leased, of an enabled endpoint, and first in
 * their lane. A plain (non-locking) read: a lane's in-flight delivery is visible as unfinished
 * whoever holds its lock, so a later one of its lane is never a candidate; the locking read in
 * claimDue then takes only those no other worker holds or has leased.
 */
async function candidates(db: Db, now: number, limit: number): Promise<string[]> {
  const rows = await db('webhook_deliveries as d')
    .join('webhooks as w', 'w.id', 'd.webhook_id')
    .where('w.enabled', true)
    .whereIn('d.status', UNFINISHED)
    .andWhere('d.next_attempt_at', '<=', now)
    .andWhere((q) => q.whereNull('d.lease_until').orWhere('d.lease_until', '<=', now))
    .whereNotExists((q) => q.select(db.raw('1')).from('webhook_deliveries as e')
      .whereRaw('e.webhook_id = d.webhook_id').andWhereRaw('e.lane = d.lane')
      .whereIn('e.status', UNFINISHED).andWhereRaw('e.event_pk < d.event_pk'))
    .orderBy('d.event_pk', 'asc')
    .limit(limit)
    .select('d.id');
  return rows.map((r: { id: string }) => r.id);
}

/**
 * Claims up to `limit` deliveries until `leaseUntil`: no other worker takes them meanwhile
 * (MySQL: FOR UPDATE SKIP LOCKED, then the lease; SQLite: its single writer). A worker that dies
 * holding a lease loses it when it expires, and the delivery is tried again. `first` runs at the
 * start of the same transaction (the worker records finished attempts there: one commit a round).
 */
export async function claimDue(db: Knex, now: number, leaseUntil: number, limit: number, first?: (trx: Knex.Transaction) => Promise<void>): Promise<DeliveryRow[]> {
  // Nothing to record and nothing due (a plain read): no transaction, so an idle round (a tenant
  // without webhooks sending) costs one read, not a BEGIN … COMMIT on the event loop.
  if (!first && (limit <= 0 || (await candidates(db, now, 1)).length === 0)) return [];
  return inTransaction(db, async (trx) => {
    if (first) await first(trx);
    const ids = limit > 0 ? await candidates(trx, now, limit) : [];
    if (ids.length === 0) return [];
    const q = trx<DeliveryRow>('webhook_deliveries').whereIn('id', ids).whereIn('status', UNFINISHED)
      .andWhere((w) => w.whereNull('lease_until').orWhere('lease_until', '<=', now));
    if (driver(trx) === 'mysql') q.forUpdate().skipLocked();
    const rows = (await q).map(toRow);
    if (rows.length > 0) await trx('webhook_deliveries').whereIn('id', rows.map((r) => r.id)).update({ lease_until: leaseUntil });
    return rows.map((r) => ({ ...r, lease_until: leaseUntil })).sort((a, b) => a.event_pk - b.event_pk);
  });
}

export async function updateDelivery(db: Db, id: string, patch: DeliveryPatch): Promise<void> {
  await db('webhook_deliveries').where({ id }).update(patch);
}

export interface DeliveryFilter {
  status?: DeliveryStatus;
  eventType?: string;
  since?: number;
  until?: number;
}

/** Newest first; `before` is the pk of the last row of the previous page. */
export async function listDeliveries(db: Db, tenantId: string, webhookId: string, f: DeliveryFilter, before: number | null, limit: number): Promise<DeliveryRow[]> {
  const q = db<DeliveryRow>('webhook_deliveries').where({ tenant_id: tenantId, webhook_id: webhookId }).orderBy('pk', 'desc').limit(limit);
  if (f.status) q.andWhere('status', f.status);
  if (f.eventType) q.andWhere('event_type', f.eventType);
  if (f.since !== undefined) q.andWhere('created_at', '>=', f.since);
  if (f.until !== undefined) q.andWhere('created_at', '<', f.until);
  if (before !== null) q.andWhere('pk', '<', before);
  return (await q).map(toRow);
}

export async function findDelivery(db: Db, tenantId: string, webhookId: string, id: string): Promise<DeliveryRow | undefined> {
  const row = await db<DeliveryRow>('webhook_deliveries').where({ tenant_id: tenantId, webhook_id: webhookId, id }).first();
  return row && toRow(row);
}

/** Puts deliveries back to pending, due now; returns how many. */
export async function requeue(db: Db, tenantId: string, webhookId: string, where: { id?: string; deadSince?: number; deadUntil?: number }, now: number): Promise<number> {
  const q = db('webhook_deliveries').where({ tenant_id: tenantId, webhook_id: webhookId });
  if (where.id !== undefined) q.andWhere('id', where.id).whereNot('status', 'pending');
  else q.andWhere('status', 'dead').andWhere('created_at', '>=', where.deadSince!).andWhere('created_at', '<', where.deadUntil!);
  return q.update({ status: 'pending', next_attempt_at: now, lease_until: null, updated_at: now });
}

/** Queries on `webhooks` (endpoints), always scoped by tenant. */
import { driver, inTransaction, type Db } from './db.ts';

export interface WebhookRow {
  id: string;
  tenant_id: string;
  url: string;
  description: string | null;
  event_types: string; // JSON array of patterns
  room_ids: string | null; // JSON array or NULL (every room)
  enabled: boolean;
  disabled_reason: string | null;
  secret: string;
  previous_secret: string | null;
  previous_secret_expires_at: number | null;
  failing_since: number | null;
  created_at: number;
  updated_at: number;
  /**
   * The outbox position (outbox_events.pk) when the endpoint was created: it receives the events
   * past it (dispatch.ts). Set by insertWebhook, not by the caller.
   */
  outbox_from_pk: number;
}

export type NewWebhookRow = Omit<WebhookRow, 'outbox_from_pk'>;

export type WebhookPatch = Partial<Omit<WebhookRow, 'id' | 'tenant_id' | 'created_at' | 'outbox_from_pk'>>;

const num = (v: number | null) => (v === null ? null : Number(v));

export const toWebhookRow = (r: WebhookRow): WebhookRow => ({
  ...r,
  enabled: Boolean(r.enabled),
  previous_secret_expires_at: num(r.previous_secret_expires_at),
  failing_since: num(r.failing_since),
  created_at: Number(r.created_at),
  updated_at: Number(r.updated_at),
  outbox_from_pk: Number(r.outbox_from_pk),
});

/**
 * Inserts an endpoint and, in the same transaction, records the outbox position it starts after:
 * the largest outbox pk then. The insert comes first: on MySQL it waits for every send whose
 * transaction read the tenant's endpoints (the outbox gate, outbox.ts, reads them locked in share
 * mode) and saw none of this one, so their events are committed, and below the position, before
 * it is read; a transaction that reads the endpoints after this insert waits for its commit, sees
 * the endpoint and writes its events after the position. The read is a locking one on MySQL, so it
 * sees the latest commits even inside a transaction that already took its snapshot. On SQLite the
 * one writer orders it all. So the endpoint receives exactly the events committed after it,
 * whatever the nodes' clocks say.
 */
export async function insertWebhook(db: Db, row: NewWebhookRow): Promise<WebhookRow> {
  return inTransaction(db, async (trx) => {
    await trx('webhooks').insert({ ...row, outbox_from_pk: 0 });
    const q = trx('outbox_events').max({ p: 'pk' });
    if (driver(trx) === 'mysql') q.forShare();
    const top = await q.first();
    const outbox_from_pk = Number(top?.p ?? 0);
    await trx('webhooks').where({ tenant_id: row.tenant_id, id: row.id }).update({ outbox_from_pk });
    return { ...row, outbox_from_pk };
  });
}

export async function findWebhook(db: Db, tenantId: string, id: string): Promise<WebhookRow | undefined> {
  const row = await db<WebhookRow>('webhooks').where({ tenant_id: tenantId, id }).first();
  return row && toWebhookRow(row);
}

export async function listWebhooks(db: Db, tenantId: string, after: [number, string] | null, limit: number): Promise<WebhookRow[]> {
  const q = db<WebhookRow>('webhooks').where({ tenant_id: tenantId }).orderBy([{ column: 'created_at' }, { column: 'id' }]).limit(limit);
  if (after) q.andWhere((w) => w.where('created_at', '>', after[0]).orWhere((o) => o.where('created_at', after[0]).andWhere('id', '>', after[1])));
  return (await q).map(toWebhookRow);
}

export async function updateWebhook(db: Db, tenantId: string, id: string, patch: WebhookPatch): Promise<number> {
  return db('webhooks').where({ tenant_id: tenantId, id }).update(patch);
}

export async function deleteWebhook(db: Db, tenantId: string, id: string): Promise<number> {
  await db('webhook_deliveries').where({ tenant_id: tenantId, webhook_id: id }).delete();
  return db('webhooks').where({ tenant_id: tenantId, id }).delete();
}

/**
 * The endpoints events of these tenants fan out to: enabled ones, and ones chatapi disabled
 * (their deliveries wait, so re-enabling resumes where they stopped). Not ones their owner disabled.
 */
export async function subscribedWebhooks(db: Db, tenantIds: string[]): Promise<WebhookRow[]> {
  if (tenantIds.length === 0) return [];
  const rows = await db<WebhookRow>('webhooks')
    .whereIn('tenant_id', tenantIds)
    .andWhere((w) => w.where('enabled', true).orWhereNotNull('disabled_reason'));
  return rows.map(toWebhookRow);
}

export async function findWebhooksByIds(db: Db, ids: string[]): Promise<Map<string, WebhookRow>> {
  const out = new Map<string, WebhookRow>();
  if (ids.length === 0) return out;
  for (const r of await db<WebhookRow>('webhooks').whereIn('id', ids)) out.set(r.id, toWebhookRow(r));
  return out;
}

/** Queries on `webhooks` (endpoints), always scoped by tenant. */
import type { Db } from './db.ts';

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
}

export type WebhookPatch = Partial<Omit<WebhookRow, 'id' | 'tenant_id' | 'created_at'>>;

const num = (v: number | null) => (v === null ? null : Number(v));

export const toWebhookRow = (r: WebhookRow): WebhookRow => ({
  ...r,
  enabled: Boolean(r.enabled),
  previous_secret_expires_at: num(r.previous_secret_expires_at),
  failing_since: num(r.failing_since),
  created_at: Number(r.created_at),
  updated_at: Number(r.updated_at),
});

export async function insertWebhook(db: Db, row: WebhookRow): Promise<void> {
  await db('webhooks').insert(row);
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

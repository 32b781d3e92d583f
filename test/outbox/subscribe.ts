/**
 * Registers a webhook endpoint straight in the store, for tests that read the outbox without
 * delivering it: events are written to the outbox only for tenants with an endpoint that would
 * receive them (src/store/outbox.ts, the gate).
 */
import { randomUUID } from 'node:crypto';
import type { Db } from '../../src/store/db.ts';
import { insertWebhook, type NewWebhookRow, type WebhookRow } from '../../src/store/webhooks.ts';

export async function subscribe(db: Db, tenantId: string, opts: Partial<Pick<WebhookRow, 'url' | 'enabled' | 'disabled_reason' | 'created_at'>> & {
  event_types?: string[];
  room_ids?: string[] | null;
} = {}): Promise<WebhookRow> {
  const now = opts.created_at ?? 0;
  const row: NewWebhookRow = {
    id: 'wh_' + randomUUID().replaceAll('-', ''), tenant_id: tenantId, url: opts.url ?? 'http://127.0.0.1:1/never', description: null,
    event_types: JSON.stringify(opts.event_types ?? ['*']), room_ids: opts.room_ids ? JSON.stringify(opts.room_ids) : null,
    enabled: opts.enabled ?? true, disabled_reason: opts.disabled_reason ?? null, secret: 'whsec_' + Buffer.from(randomUUID()).toString('base64'),
    previous_secret: null, previous_secret_expires_at: null, failing_since: null, created_at: now, updated_at: now,
  };
  return insertWebhook(db, row);
}

/** Delivery state as data: list, inspect, replay one or every dead one in a time range, send a test event. */
import { newDelivery } from '../outbox/dispatch.ts';
import * as store from '../store/deliveries.ts';
import { inTransaction } from '../store/db.ts';
import { findEvents, outboxRow } from '../store/outbox.ts';
import { findWebhook, type WebhookRow } from '../store/webhooks.ts';
import type { Ctx } from './context.ts';
import { DomainError, notFound } from './errors.ts';
import { assertUserManager } from './permissions.ts';
import type { Caller, PageOf } from './types.ts';
import { checkLimit, decodeCursor, encodeCursor, invalid, iso } from './validate.ts';
import type { WebhookDelivery, WebhookEvent } from './wire.ts';

export interface DeliveryQuery {
  status?: string;
  event_type?: string;
  since?: string;
  until?: string;
  limit?: number;
  cursor?: string;
}

export interface WebhookDeliveriesApi {
  list(caller: Caller, webhookId: string, q: DeliveryQuery): Promise<PageOf<WebhookDelivery>>;
  get(caller: Caller, webhookId: string, id: string): Promise<WebhookDelivery>;
  replay(caller: Caller, webhookId: string, id: string): Promise<WebhookDelivery>;
  replayDead(caller: Caller, webhookId: string, range: { since: string; until: string }): Promise<{ replayed: number }>;
  sendTest(caller: Caller, webhookId: string): Promise<WebhookDelivery>;
}

const STATUSES = ['pending', 'failed', 'succeeded', 'dead'];

function deliveryOut(r: store.DeliveryRow, payload: string | undefined): WebhookDelivery {
  const done = r.status === 'succeeded' || r.status === 'dead';
  const log = r.attempt_log ? (JSON.parse(r.attempt_log) as { at: number; status_code: number | null; latency_ms: number; error: string | null }[]) : [];
  return {
    id: r.id, webhook_id: r.webhook_id, event_id: r.event_id, event_type: r.event_type, room_id: r.lane === '' ? null : r.lane,
    status: r.status, attempts: r.attempts, next_attempt_at: done ? null : iso(r.next_attempt_at), last_status_code: r.last_status_code,
    last_latency_ms: r.last_latency_ms, last_error: r.last_error, attempt_log: log.map((a) => ({ ...a, at: iso(a.at) })),
    payload: (payload ? JSON.parse(payload) : { type: r.event_type }) as WebhookEvent, created_at: iso(r.created_at), updated_at: iso(r.updated_at),
  };
}

async function withPayloads(ctx: Ctx, rows: store.DeliveryRow[]): Promise<WebhookDelivery[]> {
  const events = await findEvents(ctx.db, [...new Set(rows.map((r) => r.event_id))]);
  return rows.map((r) => deliveryOut(r, events.get(r.event_id)?.payload));
}

async function hookOf(ctx: Ctx, caller: Caller, webhookId: string): Promise<WebhookRow> {
  assertUserManager(caller, 'manage webhooks');
  const hook = typeof webhookId === 'string' ? await findWebhook(ctx.db, caller.tenantId, webhookId) : undefined;
  if (!hook) throw notFound('Webhook');
  return hook;
}

function time(field: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  if (!Number.isFinite(ms)) throw invalid(field, 'must be an ISO-8601 date-time');
  return ms;
}

async function get(ctx: Ctx, caller: Caller, webhookId: string, id: string): Promise<WebhookDelivery> {
  const hook = await hookOf(ctx, caller, webhookId);
  const row = typeof id === 'string' ? await store.findDelivery(ctx.db, caller.tenantId, hook.id, id) : undefined;
  if (!row) throw notFound('Delivery');
  return (await withPayloads(ctx, [row]))[0]!;
}

async function list(ctx: Ctx, caller: Caller, webhookId: string, q: DeliveryQuery): Promise<PageOf<WebhookDelivery>> {
  const hook = await hookOf(ctx, caller, webhookId);
  if (q.status !== undefined && !STATUSES.includes(q.status)) throw invalid('status', `must be one of ${STATUSES.join(', ')}`);
  const limit = checkLimit(q.limit);
  const before = q.cursor ? decodeCursor<[number]>(q.cursor, ['number'])[0] : null;
  const filter = { status: q.status as store.DeliveryStatus | undefined, eventType: q.event_type, since: time('since', q.since), until: time('until', q.until) };
  const rows = await store.listDeliveries(ctx.db, caller.tenantId, hook.id, filter, before, limit + 1);
  const page = rows.slice(0, limit);
  return { items: await withPayloads(ctx, page), next_cursor: rows.length > limit ? encodeCursor([page[page.length - 1]!.pk]) : null };
}

async function replay(ctx: Ctx, caller: Caller, webhookId: string, id: string): Promise<WebhookDelivery> {
  const current = await get(ctx, caller, webhookId, id);
  if (current.status === 'pending') throw new DomainError('CONFLICT', 'The delivery is already pending');
  await store.requeue(ctx.db, caller.tenantId, webhookId, { id }, ctx.now());
  return get(ctx, caller, webhookId, id);
}

/** A `webhook.test` event for this endpoint only: written to the outbox already dispatched, with its delivery. */
async function sendTest(ctx: Ctx, caller: Caller, webhookId: string): Promise<WebhookDelivery> {
  const hook = await hookOf(ctx, caller, webhookId);
  const now = ctx.now();
  const evt = outboxRow({ type: 'webhook.test', tenant_id: caller.tenantId, webhook_id: hook.id } as never, now);
  const delivery = await inTransaction(ctx.db, async (trx) => {
    const [pk] = await trx('outbox_events').insert({ ...evt, dispatched_at: now });
    const row = newDelivery({ ...evt, pk: Number(pk) }, hook.id, now);
    await store.insertDeliveries(trx, [row]);
    return row;
  });
  return get(ctx, caller, webhookId, delivery.id);
}

export function webhookDeliveriesApi(ctx: Ctx): WebhookDeliveriesApi {
  return {
    list: (caller, webhookId, q) => list(ctx, caller, webhookId, q),
    get: (caller, webhookId, id) => get(ctx, caller, webhookId, id),
    replay: (caller, webhookId, id) => replay(ctx, caller, webhookId, id),
    async replayDead(caller, webhookId, range) {
      const hook = await hookOf(ctx, caller, webhookId);
      const since = time('since', range.since)!;
      const until = time('until', range.until)!;
      if (until <= since) throw invalid('until', 'must be after since');
      return { replayed: await store.requeue(ctx.db, caller.tenantId, hook.id, { deadSince: since, deadUntil: until }, ctx.now()) };
    },
    sendTest: (caller, webhookId) => sendTest(ctx, caller, webhookId),
  };
}

/**
 * Dispatch: outbox events → one delivery per subscribed endpoint. One node at a time (the
 * dispatch lock), in outbox order, in one transaction with marking the events dispatched, so an
 * event is fanned out exactly once and a lane's deliveries get their events' order.
 */
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { inTransaction } from '../store/db.ts';
import { insertDeliveries, type NewDeliveryRow } from '../store/deliveries.ts';
import { anyUndispatched, markDispatched, takeDispatchLock, undispatched, type OutboxRow } from '../store/outbox.ts';
import { subscribedWebhooks, type WebhookRow } from '../store/webhooks.ts';
import { roomMatches, typeMatches } from './filters.ts';

const BATCH = 500;

export function deliveryId(): string {
  return 'dlv_' + randomUUID().replaceAll('-', '');
}

export function newDelivery(evt: OutboxRow, webhookId: string, now: number): NewDeliveryRow {
  return {
    id: deliveryId(), tenant_id: evt.tenant_id, webhook_id: webhookId, event_id: evt.id, event_pk: evt.pk, event_type: evt.type,
    lane: evt.room_id ?? '', status: 'pending', attempts: 0, next_attempt_at: now, lease_until: null, last_attempt_at: null,
    last_status_code: null, last_latency_ms: null, last_error: null, attempt_log: null, created_at: now, updated_at: now,
  };
}

function fanOut(events: OutboxRow[], hooks: WebhookRow[], now: number): NewDeliveryRow[] {
  const out: NewDeliveryRow[] = [];
  const parsed = hooks.map((h) => ({ h, types: JSON.parse(h.event_types) as string[], rooms: h.room_ids === null ? null : (JSON.parse(h.room_ids) as string[]) }));
  for (const evt of events) {
    for (const { h, types, rooms } of parsed) {
      // An endpoint gets the events committed after it was registered, not the backlog before: the
      // outbox holds only events some endpoint wanted at their commit (store/outbox.ts), and this
      // keeps a new endpoint from the events written for an older one of the same tenant. By
      // outbox position, not time: an event's time is taken before its transaction waits for the
      // writer, and nodes' clocks differ (store/webhooks.ts, insertWebhook).
      if (h.tenant_id === evt.tenant_id && evt.pk > h.outbox_from_pk && typeMatches(types, evt.type) && roomMatches(rooms, evt.room_id)) out.push(newDelivery(evt, h.id, now));
    }
  }
  return out;
}

/** Dispatches one batch; returns how many events it took (0: nothing to do, or another node is dispatching). */
export async function dispatchBatch(db: Knex, now: number): Promise<number> {
  if (!(await anyUndispatched(db))) return 0;
  return inTransaction(db, async (trx) => {
    if (!(await takeDispatchLock(trx))) return 0;
    const events = await undispatched(trx, BATCH);
    if (events.length === 0) return 0;
    const hooks = await subscribedWebhooks(trx, [...new Set(events.map((e) => e.tenant_id))]);
    await insertDeliveries(trx, fanOut(events, hooks, now));
    await markDispatched(trx, events.map((e) => e.pk), now);
    return events.length;
  });
}

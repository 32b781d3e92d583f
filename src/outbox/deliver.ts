/**
 * Tries claimed deliveries and records each outcome: succeeded; failed with the next attempt
 * scheduled (schedule.ts); or dead after the last attempt, which also disables the endpoint with a
 * reason (re-enabling it resumes where it stopped).
 */
import type { Knex } from 'knex';
import type { Db } from '../store/db.ts';
import { updateDelivery, type DeliveryRow } from '../store/deliveries.ts';
import { findEvents } from '../store/outbox.ts';
import { findWebhooksByIds, updateWebhook, type WebhookRow } from '../store/webhooks.ts';
import { MAX_ATTEMPTS, retryDelay } from './schedule.ts';
import { sendWebhook, type Attempt } from './sender.ts';

export interface DeliverDeps {
  db: Knex;
  now(): number;
  random(): number;
  timeoutMs: number;
  allowPrivate: boolean;
  log: { warn(obj: object, msg?: string): void };
  /** Called after each attempt (metrics, tests, benchmarks). */
  onAttempt?(d: DeliveryRow, a: Attempt): void;
}

const LOG_KEEP = 20;

export function activeSecrets(h: WebhookRow, now: number): string[] {
  const previous = h.previous_secret && h.previous_secret_expires_at !== null && h.previous_secret_expires_at > now ? [h.previous_secret] : [];
  return [h.secret, ...previous];
}

function appendLog(prev: string | null, at: number, a: Attempt): string {
  const log = prev ? (JSON.parse(prev) as unknown[]) : [];
  log.push({ at, status_code: a.status_code, latency_ms: a.latency_ms, error: a.error });
  return JSON.stringify(log.slice(-LOG_KEEP));
}

async function settle(db: Db, deps: DeliverDeps, { d, hook, attempt: a }: Outcome): Promise<void> {
  const now = deps.now();
  const attempts = d.attempts + 1;
  const common = {
    attempts, lease_until: null, last_attempt_at: now, last_status_code: a.status_code, last_latency_ms: a.latency_ms,
    last_error: a.error?.slice(0, 500) ?? null, attempt_log: appendLog(d.attempt_log, now, a), updated_at: now,
  };
  if (a.ok) {
    await updateDelivery(db, d.id, { ...common, status: 'succeeded' });
    if (hook.failing_since !== null) await updateWebhook(db, hook.tenant_id, hook.id, { failing_since: null });
    return;
  }
  const delay = retryDelay(attempts, deps.random);
  if (hook.failing_since === null) await updateWebhook(db, hook.tenant_id, hook.id, { failing_since: now });
  if (delay !== null && attempts < MAX_ATTEMPTS) {
    await updateDelivery(db, d.id, { ...common, status: 'failed', next_attempt_at: now + delay });
    return;
  }
  await updateDelivery(db, d.id, { ...common, status: 'dead' });
  const reason = `Delivery ${d.id} (${d.event_type}) failed ${attempts} times; last: ${a.error ?? 'no answer'}`.slice(0, 500);
  await updateWebhook(db, hook.tenant_id, hook.id, { enabled: false, disabled_reason: reason, updated_at: now });
  deps.log.warn({ webhook_id: hook.id, delivery_id: d.id }, 'webhook endpoint disabled after a dead delivery');
}

/** An attempt made, to be recorded. */
export interface Outcome {
  d: DeliveryRow;
  hook: WebhookRow;
  attempt: Attempt;
}

/**
 * Starts an attempt for each claimed delivery (they are of distinct lanes, so in parallel); each
 * returned promise resolves with its outcome (null when the event or endpoint is gone) and never
 * rejects. Outcomes are recorded together by `settleAll` (one transaction for many attempts).
 */
export async function startDeliveries(deps: DeliverDeps, claimed: DeliveryRow[]): Promise<Promise<Outcome | null>[]> {
  if (claimed.length === 0) return [];
  const [events, hooks] = await Promise.all([
    findEvents(deps.db, [...new Set(claimed.map((d) => d.event_id))]),
    findWebhooksByIds(deps.db, [...new Set(claimed.map((d) => d.webhook_id))]),
  ]);
  return claimed.map(async (d) => {
    const evt = events.get(d.event_id);
    const hook = hooks.get(d.webhook_id);
    if (!evt || !hook) return null;
    const attempt = await sendWebhook({
      url: hook.url, eventId: d.event_id, body: evt.payload, secrets: activeSecrets(hook, deps.now()), timeoutMs: deps.timeoutMs, allowPrivate: deps.allowPrivate,
    });
    return { d, hook, attempt };
  });
}

/** Records outcomes in the caller's transaction (the worker's claim, so a round commits once). */
export async function settleAll(trx: Db, deps: DeliverDeps, outcomes: Outcome[]): Promise<void> {
  for (const o of outcomes) await settle(trx, deps, o);
}

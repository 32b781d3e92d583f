/**
 * Webhook endpoints: register, list, change, delete, rotate the signing secret. The tenant key or
 * a tenant admin manages them; delivery itself is src/outbox/. URLs that reach private networks
 * are refused unless the operator allows them (src/outbox/ssrf.ts).
 *
 * What an endpoint receives: the events committed after it was created (or re-enabled, or its
 * filters widened) that match its event types and rooms, never a backlog from before. Events are
 * written to the outbox only while their tenant has an endpoint that would receive them (the gate,
 * src/store/outbox.ts, read inside each change's transaction), so a tenant without endpoints costs
 * its sends no outbox writes. An endpoint disabled by its owner receives nothing committed while
 * it is disabled; one disabled by chatapi after failed deliveries keeps its events waiting, and
 * re-enabling it resumes them.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { refuseUrl } from '../outbox/ssrf.ts';
import * as store from '../store/webhooks.ts';
import { existingRoomIds } from '../store/rooms.ts';
import type { Ctx } from './context.ts';
import { notFound } from './errors.ts';
import { assertUserManager } from './permissions.ts';
import type { Caller, PageOf, Page } from './types.ts';
import { checkOptionalText, invalid, paginate, readPage, iso, isoOrNull } from './validate.ts';
import type { Webhook, WebhookWithSecret } from './wire.ts';

export interface WebhookInput {
  url?: string;
  description?: string | null;
  event_types?: string[];
  room_ids?: string[] | null;
  enabled?: boolean;
}

export interface WebhooksApi {
  create(caller: Caller, input: WebhookInput): Promise<WebhookWithSecret>;
  list(caller: Caller, page: Page): Promise<PageOf<Webhook>>;
  get(caller: Caller, id: string): Promise<Webhook>;
  update(caller: Caller, id: string, patch: WebhookInput): Promise<Webhook>;
  remove(caller: Caller, id: string): Promise<void>;
  rotateSecret(caller: Caller, id: string, input: { grace_seconds?: number }): Promise<WebhookWithSecret>;
}

const PATTERN_RE = /^(\*|[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*(\.\*)?)$/;
const DEFAULT_GRACE_S = 24 * 3600;

export function webhookOut(r: store.NewWebhookRow): Webhook {
  return {
    id: r.id, url: r.url, description: r.description, event_types: JSON.parse(r.event_types) as string[],
    room_ids: r.room_ids === null ? null : (JSON.parse(r.room_ids) as string[]), enabled: r.enabled, disabled_reason: r.disabled_reason,
    previous_secret_expires_at: r.previous_secret && r.previous_secret_expires_at !== null ? isoOrNull(r.previous_secret_expires_at) : null,
    created_at: iso(r.created_at), updated_at: iso(r.updated_at),
  };
}

const newSecret = () => 'whsec_' + randomBytes(24).toString('base64');

async function checkUrl(ctx: Ctx, value: unknown): Promise<string> {
  if (typeof value !== 'string' || value.length > 2048) throw invalid('url', 'must be an http:// or https:// URL');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalid('url', 'must be an http:// or https:// URL');
  }
  const refused = await refuseUrl(url, ctx.config.webhookAllowPrivate === true);
  if (refused) throw invalid('url', refused);
  return url.toString();
}

function checkPatterns(value: unknown): string {
  if (!Array.isArray(value) || value.length < 1 || value.length > 50) throw invalid('event_types', 'must list 1-50 event types');
  value.forEach((p, i) => {
    if (typeof p !== 'string' || p.length > 64 || !PATTERN_RE.test(p)) throw invalid(`event_types[${i}]`, 'must be an event type, a family like message.*, or *');
  });
  return JSON.stringify([...new Set(value as string[])]);
}

/** The room filter: ids of the caller's tenant only (another tenant's room is NOT_FOUND, as everywhere). */
async function checkRooms(ctx: Ctx, tenantId: string, value: unknown): Promise<string | null> {
  if (value === null || value === undefined) return null;
  if (!Array.isArray(value) || value.length > 100) throw invalid('room_ids', 'must be null or at most 100 room ids');
  value.forEach((r, i) => {
    if (typeof r !== 'string' || r.length < 1 || r.length > 64) throw invalid(`room_ids[${i}]`, 'must be a room id');
  });
  const ids = [...new Set(value as string[])];
  const known = await existingRoomIds(ctx.db, tenantId, ids);
  if (ids.some((id) => !known.has(id))) throw notFound('Room');
  return JSON.stringify(ids);
}

async function load(ctx: Ctx, caller: Caller, id: string): Promise<store.WebhookRow> {
  assertUserManager(caller, 'manage webhooks');
  const row = typeof id === 'string' ? await store.findWebhook(ctx.db, caller.tenantId, id) : undefined;
  if (!row) throw notFound('Webhook');
  return row;
}

async function create(ctx: Ctx, caller: Caller, input: WebhookInput): Promise<WebhookWithSecret> {
  assertUserManager(caller, 'manage webhooks');
  const now = ctx.now();
  const row: store.NewWebhookRow = {
    id: 'wh_' + randomUUID().replaceAll('-', ''), tenant_id: caller.tenantId, url: await checkUrl(ctx, input.url),
    description: checkOptionalText('description', input.description, 500) ?? null, event_types: checkPatterns(input.event_types),
    room_ids: await checkRooms(ctx, caller.tenantId, input.room_ids), enabled: input.enabled ?? true, disabled_reason: null, secret: newSecret(),
    previous_secret: null, previous_secret_expires_at: null, failing_since: null, created_at: now, updated_at: now,
  };
  await store.insertWebhook(ctx.db, row);
  return { ...webhookOut(row), secret: row.secret };
}

async function update(ctx: Ctx, caller: Caller, id: string, patch: WebhookInput): Promise<Webhook> {
  const row = await load(ctx, caller, id);
  const changes: store.WebhookPatch = { updated_at: ctx.now() };
  if (patch.url !== undefined) changes.url = await checkUrl(ctx, patch.url);
  if (patch.description !== undefined) changes.description = checkOptionalText('description', patch.description, 500) ?? null;
  if (patch.event_types !== undefined) changes.event_types = checkPatterns(patch.event_types);
  if (patch.room_ids !== undefined) changes.room_ids = await checkRooms(ctx, caller.tenantId, patch.room_ids);
  if (patch.enabled !== undefined) {
    // Enabling clears chatapi's reason and resumes; disabling by hand stops new deliveries being queued.
    changes.enabled = patch.enabled;
    changes.disabled_reason = null;
    if (patch.enabled) changes.failing_since = null;
  }
  if ((await store.updateWebhook(ctx.db, caller.tenantId, row.id, changes)) === 0) throw notFound('Webhook');
  return webhookOut({ ...row, ...changes });
}

async function rotateSecret(ctx: Ctx, caller: Caller, id: string, input: { grace_seconds?: number }): Promise<WebhookWithSecret> {
  const row = await load(ctx, caller, id);
  const grace = input.grace_seconds ?? DEFAULT_GRACE_S;
  if (!Number.isInteger(grace) || grace < 0 || grace > 7 * 24 * 3600) throw invalid('grace_seconds', 'must be 0 to 604800');
  const now = ctx.now();
  const changes: store.WebhookPatch = {
    secret: newSecret(), previous_secret: grace > 0 ? row.secret : null, previous_secret_expires_at: grace > 0 ? now + grace * 1000 : null, updated_at: now,
  };
  await store.updateWebhook(ctx.db, caller.tenantId, row.id, changes);
  const next = { ...row, ...changes };
  return { ...webhookOut(next), secret: next.secret };
}

export function webhooksApi(ctx: Ctx): WebhooksApi {
  return {
    create: (caller, input) => create(ctx, caller, input),
    async list(caller, page) {
      assertUserManager(caller, 'manage webhooks');
      const { limit, after } = readPage<[number, string]>(page, ['number', 'string']);
      const rows = await store.listWebhooks(ctx.db, caller.tenantId, after, limit + 1);
      return paginate(rows, limit, webhookOut, (r) => [r.created_at, r.id]);
    },
    get: async (caller, id) => webhookOut(await load(ctx, caller, id)),
    update: (caller, id, patch) => update(ctx, caller, id, patch),
    async remove(caller, id) {
      const row = await load(ctx, caller, id);
      await store.deleteWebhook(ctx.db, caller.tenantId, row.id);
    },
    rotateSecret: (caller, id, input) => rotateSecret(ctx, caller, id, input),
  };
}

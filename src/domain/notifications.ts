/**
 * In-app notifications: stored per user until read, sent live to every open connection of the
 * user (a `notification` frame), and announced to the integrator's backend as a
 * `notification.created` webhook for users with no open connection (to send a mobile push).
 */
import { createHash, randomUUID } from 'node:crypto';
import { isUniqueViolation } from '../store/db.ts';
import * as store from '../store/notifications.ts';
import { appendOutbox, type OutboxEvent } from '../store/outbox.ts';
import { findRoom } from '../store/rooms.ts';
import { existingUserIds } from '../store/users.ts';
import type { Ctx } from './context.ts';
import { DomainError, notFound } from './errors.ts';
import type { NotificationEvent } from './events.ts';
import type { Caller } from './types.ts';
import { canonicalJson, checkJsonBounds, checkLimit, checkOptionalText, checkText, decodeCursor, encodeCursor, invalid, iso, isoOrNull, isPlainObject, requireUser } from './validate.ts';
import type { Notification } from './wire.ts';

export interface NotificationInput {
  user_ids: string[];
  type: string;
  title: string;
  body?: string | null;
  data?: Record<string, unknown> | null;
  room_id?: string | null;
}

export interface NotificationsApi {
  send(caller: Caller, input: NotificationInput, idempotencyKey?: string): Promise<{ items: Notification[]; created: boolean }>;
  listMine(caller: Caller, q: { unread_only?: boolean; limit?: number; cursor?: string }): Promise<{ items: Notification[]; next_cursor: string | null; unread_count: number }>;
  markRead(caller: Caller, input: { up_to_id?: string; ids?: string[] }): Promise<{ marked: number; unread_count: number }>;
  unreadCount(tenantId: string, userId: string): Promise<number>;
  /** unreadCount for several users at once (one query). */
  unreadCounts(tenantId: string, userIds: readonly string[]): Promise<Map<string, number>>;
}

/** Who has an open connection (the realtime presence registry); absent: nobody does. */
export type OnlineCheck = (tenantId: string, userIds: string[]) => Promise<Set<string>>;

const SENDER_ROLES = ['staff', 'admin', 'superadmin'];
const TYPE_RE = /^[A-Za-z0-9][A-Za-z0-9._:-]*$/;
const MAX_DATA_BYTES = 8 * 1024;
/** Nesting and size bounds of `data`, checked before anything recurses into it (as message `meta`). */
const JSON_BOUNDS = { maxDepth: 16, maxNodes: 512 };

export function notificationOut(r: store.NewNotificationRow): Notification {
  return {
    id: r.id, user_id: r.user_id, type: r.type, title: r.title, body: r.body, data: r.data === null ? null : (JSON.parse(r.data) as Record<string, unknown>),
    room_id: r.room_id, created_at: iso(r.created_at), read_at: isoOrNull(r.read_at),
  };
}

function checkInput(input: NotificationInput) {
  if (!Array.isArray(input.user_ids) || input.user_ids.length < 1 || input.user_ids.length > 1000) throw invalid('user_ids', 'must list 1-1000 user ids');
  const type = checkText('type', input.type, 64);
  if (!TYPE_RE.test(type)) throw invalid('type', 'letters, digits and . _ : - only');
  if (input.data !== undefined && input.data !== null && !isPlainObject(input.data)) throw invalid('data', 'must be a JSON object or null');
  if (input.data) checkJsonBounds('data', input.data, JSON_BOUNDS); // before JSON.stringify, which recurses
  const data = input.data ? JSON.stringify(input.data) : null;
  if (data && Buffer.byteLength(data) > MAX_DATA_BYTES) throw invalid('data', `must be at most ${MAX_DATA_BYTES} bytes as JSON`);
  return {
    userIds: [...new Set(input.user_ids)], type, title: checkText('title', input.title, 200), body: checkOptionalText('body', input.body, 4000) ?? null, data,
    roomId: checkOptionalText('room_id', input.room_id, 64) ?? null,
  };
}

async function checkTargets(ctx: Ctx, tenantId: string, userIds: string[], roomId: string | null): Promise<void> {
  const found = await existingUserIds(ctx.db, tenantId, userIds);
  const missing = userIds.filter((id) => !found.has(id));
  if (missing.length) throw new DomainError('VALIDATION_ERROR', `user_ids: unknown ${missing.map((m) => `"${m}"`).join(', ')}`, missing.map((m) => ({ field: 'user_ids', message: `no user "${m}"` })));
  if (roomId !== null && !(await findRoom(ctx.db, tenantId, roomId))) throw notFound('Room');
}

/** The original answer of an earlier send with this key (CONFLICT for another body). */
async function replayed(ctx: Ctx, tenantId: string, key: string, hash: string): Promise<Notification[] | null> {
  const prior = await store.findRequest(ctx.db, tenantId, key);
  if (!prior) return null;
  if (prior.body_hash !== hash) throw new DomainError('CONFLICT', 'This Idempotency-Key was already used with a different body');
  return (await store.findByIds(ctx.db, tenantId, JSON.parse(prior.result) as string[])).map(notificationOut);
}

function makeSend(ctx: Ctx, online: OnlineCheck | undefined) {
  return async function send(caller: Caller, input: NotificationInput, key?: string) {
    if (caller.kind === 'user' && !SENDER_ROLES.includes(caller.user.role)) throw new DomainError('AUTHORIZATION_ERROR', 'Only the tenant key or staff may send notifications');
    const c = checkInput(input);
    const tenantId = caller.tenantId;
    const hash = createHash('sha256').update(canonicalJson({ ...c, userIds: [...c.userIds].sort() })).digest('hex');
    const earlier = key ? await replayed(ctx, tenantId, key, hash) : null;
    if (earlier) return { items: earlier, created: false };
    await checkTargets(ctx, tenantId, c.userIds, c.roomId);
    const now = ctx.now();
    const rows: store.NewNotificationRow[] = c.userIds.map((user_id) => ({
      id: 'ntf_' + randomUUID().replaceAll('-', ''), tenant_id: tenantId, user_id, type: c.type, title: c.title, body: c.body, data: c.data, room_id: c.roomId, created_at: now, read_at: null,
    }));
    const connected = online ? await online(tenantId, c.userIds) : new Set<string>();
    const items = rows.map(notificationOut);
    // The webhook for users nobody can reach live: written with the notifications, so it exists iff they do.
    const webhooks: OutboxEvent[] = items.filter((n) => !connected.has(n.user_id))
      .map((n) => ({ type: 'notification.created', tenant_id: tenantId, user_id: n.user_id, notification: n }) as OutboxEvent);
    try {
      await ctx.change(async (trx) => {
        await store.insertNotifications(trx, rows);
        if (key) await store.insertRequest(trx, { tenant_id: tenantId, idempotency_key: key, body_hash: hash, result: JSON.stringify(rows.map((r) => r.id)), created_at: now });
        await appendOutbox(trx, webhooks, now);
      });
    } catch (err) {
      const again = key && isUniqueViolation(err) ? await replayed(ctx, tenantId, key, hash) : null; // a concurrent repeat won
      if (again) return { items: again, created: false };
      throw err;
    }
    ctx.announce(items.map((n): NotificationEvent => ({ type: 'notification', tenant_id: tenantId, room_id: null, user_id: n.user_id, notification: n })));
    return { items, created: true };
  };
}

export function notificationsApi(ctx: Ctx, online?: OnlineCheck): NotificationsApi {
  const unreadCount = (tenantId: string, userId: string) => store.unreadCount(ctx.db, tenantId, userId);
  return {
    send: makeSend(ctx, online),
    unreadCount,
    unreadCounts: (tenantId, userIds) => store.unreadCounts(ctx.db, tenantId, userIds),
    async listMine(caller, q) {
      const me = requireUser(caller);
      const limit = checkLimit(q.limit);
      const after = q.cursor ? decodeCursor<[number, number]>(q.cursor, ['number', 'number']) : null;
      const rows = await store.listForUser(ctx.db, me.tenantId, me.user.id, { unreadOnly: q.unread_only === true, after, limit: limit + 1 });
      const page = rows.slice(0, limit);
      const last = page[page.length - 1];
      return {
        items: page.map(notificationOut),
        next_cursor: rows.length > limit && last ? encodeCursor([last.read_at === null ? 0 : 1, last.pk]) : null,
        unread_count: await unreadCount(me.tenantId, me.user.id),
      };
    },
    async markRead(caller, input) {
      const me = requireUser(caller);
      if ((input.up_to_id === undefined) === (input.ids === undefined)) throw invalid('body', 'give either up_to_id or ids');
      let which: { upToPk: number } | { ids: string[] };
      if (input.up_to_id !== undefined) {
        const upTo = await store.findForUser(ctx.db, me.tenantId, me.user.id, input.up_to_id);
        if (!upTo) throw notFound('Notification');
        which = { upToPk: upTo.pk };
      } else which = { ids: input.ids! };
      const marked = await store.markRead(ctx.db, me.tenantId, me.user.id, which, ctx.now());
      return { marked, unread_count: await unreadCount(me.tenantId, me.user.id) };
    },
  };
}

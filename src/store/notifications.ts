/** Queries on `notifications` and `notification_requests` (idempotency keys), always scoped by tenant. */
import type { Db } from './db.ts';
import { inList } from './in-list.ts';

export interface NotificationRow {
  pk: number;
  id: string;
  tenant_id: string;
  user_id: string;
  type: string;
  title: string;
  body: string | null;
  data: string | null; // JSON text
  room_id: string | null;
  created_at: number;
  read_at: number | null;
}
export type NewNotificationRow = Omit<NotificationRow, 'pk'>;

export interface RequestRow {
  tenant_id: string;
  idempotency_key: string;
  body_hash: string;
  result: string; // JSON array of notification ids
  created_at: number;
}

const toRow = (r: NotificationRow): NotificationRow => ({
  ...r, pk: Number(r.pk), created_at: Number(r.created_at), read_at: r.read_at === null ? null : Number(r.read_at),
});

export async function insertNotifications(db: Db, rows: NewNotificationRow[]): Promise<void> {
  for (let i = 0; i < rows.length; i += 200) await db('notifications').insert(rows.slice(i, i + 200));
}

export async function findRequest(db: Db, tenantId: string, key: string): Promise<RequestRow | undefined> {
  return db<RequestRow>('notification_requests').where({ tenant_id: tenantId, idempotency_key: key }).first();
}

export async function insertRequest(db: Db, row: RequestRow): Promise<void> {
  await db('notification_requests').insert(row);
}

export async function findByIds(db: Db, tenantId: string, ids: string[]): Promise<NotificationRow[]> {
  if (ids.length === 0) return [];
  const rows = await db<NotificationRow>('notifications').where('tenant_id', tenantId).whereIn('id', ids).orderBy('pk', 'asc');
  return rows.map(toRow);
}

/** Unread first, then read; newest first in each. `after` = [0 unread | 1 read, pk] of the previous page's last row. */
export async function listForUser(
  db: Db, tenantId: string, userId: string, o: { unreadOnly: boolean; after: [number, number] | null; limit: number },
): Promise<NotificationRow[]> {
  const q = db<NotificationRow>('notifications').where({ tenant_id: tenantId, user_id: userId })
    .orderByRaw('CASE WHEN read_at IS NULL THEN 0 ELSE 1 END ASC, pk DESC').limit(o.limit);
  if (o.unreadOnly) q.whereNull('read_at');
  const after = o.after;
  if (after && after[0] === 0) q.andWhere((w) => w.where((u) => u.whereNull('read_at').andWhere('pk', '<', after[1])).orWhereNotNull('read_at'));
  if (after && after[0] === 1) q.whereNotNull('read_at').andWhere('pk', '<', after[1]);
  return (await q).map(toRow);
}

export async function unreadCount(db: Db, tenantId: string, userId: string): Promise<number> {
  const [row] = await db('notifications').where({ tenant_id: tenantId, user_id: userId }).whereNull('read_at').count({ n: '*' });
  return Number((row as { n: number | string }).n);
}

/** unreadCount for several users of one tenant in one query. */
export async function unreadCounts(db: Db, tenantId: string, userIds: readonly string[]): Promise<Map<string, number>> {
  const out = new Map<string, number>(userIds.map((id) => [id, 0]));
  if (userIds.length === 0) return out;
  const rows = await db('notifications').where('tenant_id', tenantId).whereIn('user_id', inList(userIds)).whereNull('read_at')
    .groupBy('user_id').select('user_id').count({ n: '*' }) as { user_id: string; n: number | string }[];
  for (const r of rows) out.set(r.user_id, Number(r.n));
  return out;
}

/** Marks the user's unread notifications read: those up to a pk (inclusive), or those with the given ids. */
export async function markRead(db: Db, tenantId: string, userId: string, which: { upToPk: number } | { ids: string[] }, now: number): Promise<number> {
  const q = db('notifications').where({ tenant_id: tenantId, user_id: userId }).whereNull('read_at');
  if ('upToPk' in which) q.andWhere('pk', '<=', which.upToPk);
  else q.whereIn('id', which.ids);
  return q.update({ read_at: now });
}

export async function findForUser(db: Db, tenantId: string, userId: string, id: string): Promise<NotificationRow | undefined> {
  const row = await db<NotificationRow>('notifications').where({ tenant_id: tenantId, user_id: userId, id }).first();
  return row && toRow(row);
}

/**
 * The admin panel's reads: every conversation of a tenant, and the tenant's figures. Each figure
 * is one indexed query (see getAdminStats in spec/openapi.yaml for the cost of each).
 */
import type { Knex } from 'knex';
import type { Db } from './db.ts';
import type { MemberRow } from './members.ts';
import { toRoomRow, type RoomRow } from './rooms.ts';

export interface ConversationRow extends RoomRow {
  t_status: string | null;
  t_priority: string | null;
  t_requester_id: string | null;
  t_assignee_id: string | null;
}

export interface ConversationFilter {
  type?: string;
  memberId?: string;
  status?: string;
  activeFrom?: number;
  activeBefore?: number;
}

function conversations(db: Db, tenantId: string, f: ConversationFilter): Knex.QueryBuilder {
  const q = db('rooms').leftJoin('tickets as t', 't.room_id', 'rooms.id').where('rooms.tenant_id', tenantId);
  if (f.type) q.andWhere('rooms.type', f.type);
  if (f.status) q.andWhere('t.status', f.status);
  if (f.activeFrom !== undefined) q.andWhere('rooms.updated_at', '>=', f.activeFrom);
  if (f.activeBefore !== undefined) q.andWhere('rooms.updated_at', '<', f.activeBefore);
  if (f.memberId) {
    q.whereExists((e) => e.select('rm.user_id').from('room_members as rm')
      .where('rm.room_id', '=', db.ref('rooms.id')).andWhere('rm.tenant_id', tenantId).andWhere('rm.user_id', f.memberId!));
  }
  return q;
}

/** Latest activity first; keyset on (updated_at, id) descending, on the (tenant_id, updated_at, id) index. */
export async function listConversations(
  db: Db, tenantId: string, f: ConversationFilter, before: [number, string] | null, limit: number,
): Promise<ConversationRow[]> {
  const q = conversations(db, tenantId, f)
    .select('rooms.*', 't.status as t_status', 't.priority as t_priority', 't.requester_id as t_requester_id', 't.assignee_id as t_assignee_id')
    .orderBy([{ column: 'rooms.updated_at', order: 'desc' }, { column: 'rooms.id', order: 'desc' }])
    .limit(limit);
  if (before) {
    const [at, id] = before;
    q.andWhere((w) => w.where('rooms.updated_at', '<', at).orWhere((o) => o.where('rooms.updated_at', at).andWhere('rooms.id', '<', id)));
  }
  return ((await q) as ConversationRow[]).map((r) => toRoomRow(r));
}

export async function countConversations(db: Db, tenantId: string, f: ConversationFilter): Promise<number> {
  const [row] = await conversations(db, tenantId, f).count({ n: '*' });
  return Number((row as { n: number | string }).n);
}

/** The first `n` members of each room, in join order (one query, a window per room). */
export async function firstMembers(db: Db, tenantId: string, roomIds: string[], n: number): Promise<MemberRow[]> {
  if (roomIds.length === 0) return [];
  const ranked = db('room_members')
    .where({ tenant_id: tenantId })
    .whereIn('room_id', roomIds)
    .select('*', db.raw('ROW_NUMBER() OVER (PARTITION BY room_id ORDER BY joined_at, user_id) AS rn'));
  const rows = await db.select('*').from(ranked.as('ranked')).where('rn', '<=', n).orderBy([{ column: 'room_id' }, { column: 'rn' }]);
  return (rows as (MemberRow & { rn: number })[]).map(({ rn: _rn, ...r }) => ({
    ...r, delivered_seq: Number(r.delivered_seq), read_seq: Number(r.read_seq), joined_at: Number(r.joined_at),
  }));
}

/**
 * Unread messages per (room, member): after the member's read cursor, not theirs, not deleted.
 * Each membership reads a range of the messages (room_id, seq) index after its cursor.
 */
function unreadJoin(db: Db, tenantId: string): Knex.QueryBuilder {
  return db('room_members as rm')
    .join('messages as m', (j) => j.on('m.room_id', '=', 'rm.room_id').andOn('m.seq', '>', 'rm.read_seq'))
    .where('rm.tenant_id', tenantId)
    .andWhere('m.tenant_id', tenantId)
    .andWhere('m.sender_id', '<>', db.ref('rm.user_id'))
    .whereNull('m.deleted_at');
}

export async function unreadByMember(db: Db, tenantId: string, roomIds: string[]): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  if (roomIds.length === 0) return out;
  const rows = await unreadJoin(db, tenantId).whereIn('rm.room_id', roomIds).groupBy('rm.room_id', 'rm.user_id')
    .select('rm.room_id', 'rm.user_id').count({ n: '*' });
  for (const r of rows as { room_id: string; user_id: string; n: number | string }[]) out.set(`${r.room_id}\n${r.user_id}`, Number(r.n));
  return out;
}

/**
 * Every membership's unread messages, summed. Written as a correlated count per membership so the
 * database drives from room_members and ranges over messages (room_id, seq) after each read
 * cursor: the cost follows the unread messages, never the whole messages table.
 */
export async function unreadTotal(db: Db, tenantId: string): Promise<number> {
  const perMember = db('messages as m')
    .count('*')
    .where('m.room_id', '=', db.ref('rm.room_id'))
    .andWhere('m.seq', '>', db.ref('rm.read_seq'))
    .andWhere('m.sender_id', '<>', db.ref('rm.user_id'))
    .whereNull('m.deleted_at');
  const [row] = await db('room_members as rm').where('rm.tenant_id', tenantId).select(db.raw('COALESCE(SUM((?)), 0) AS n', [perMember]));
  return Number((row as { n: number | string }).n);
}

type Counted = { k: string; n: number | string };
const toMap = (rows: unknown[]) => new Map((rows as Counted[]).map((r) => [String(r.k), Number(r.n)]));

export async function countUsers(db: Db, tenantId: string): Promise<number> {
  const [row] = await db('users').where({ tenant_id: tenantId }).count({ n: '*' });
  return Number((row as { n: number | string }).n);
}

export async function roomsByType(db: Db, tenantId: string): Promise<Map<string, number>> {
  return toMap(await db('rooms').where({ tenant_id: tenantId }).groupBy('type').select('type as k').count({ n: '*' }));
}

/** Messages stored in every room: the sum of the rooms' last seq (one row per room, no message scan). */
export async function messageTotal(db: Db, tenantId: string): Promise<number> {
  const [row] = await db('rooms').where({ tenant_id: tenantId }).sum({ n: 'last_seq' });
  return Number((row as { n: number | string | null }).n ?? 0);
}

const DAY = 86_400_000;

/** Messages per UTC day in [fromDay, toDay) (a range on the (tenant_id, created_at) index). */
async function countDays(db: Db, tenantId: string, fromDay: number, toDay: number): Promise<Map<number, number>> {
  const rows = await db('messages')
    .where({ tenant_id: tenantId })
    .andWhere('created_at', '>=', fromDay * DAY)
    .andWhere('created_at', '<', toDay * DAY)
    .groupBy('k')
    .select(db.raw('FLOOR(created_at / 86400000) AS k'))
    .count({ n: '*' });
  return new Map((rows as Counted[]).map((r) => [Number(r.k), Number(r.n)]));
}

/**
 * Messages per UTC day for [fromDay, today]. Days before yesterday are over (messages are stamped
 * at commit; a day's margin covers nodes' clock skew): each is counted from the index once and
 * kept in message_day_counts. Only yesterday and today are counted per request.
 */
export async function messagesPerDay(db: Db, tenantId: string, fromDay: number, today: number): Promise<Map<number, number>> {
  const settledDay = today - 1;
  const kept = await db('message_day_counts').where({ tenant_id: tenantId }).andWhere('day', '>=', fromDay).andWhere('day', '<', settledDay).select('day', 'count');
  const out = new Map((kept as { day: number; count: number }[]).map((r) => [Number(r.day), Number(r.count)]));
  const missing = Array.from({ length: Math.max(0, settledDay - fromDay) }, (_, i) => fromDay + i).filter((d) => !out.has(d));
  if (missing.length > 0) {
    const counted = await countDays(db, tenantId, missing[0]!, missing[missing.length - 1]! + 1);
    const rows = missing.map((day) => ({ tenant_id: tenantId, day, count: counted.get(day) ?? 0 }));
    await db('message_day_counts').insert(rows).onConflict(['tenant_id', 'day']).ignore();
    for (const r of rows) out.set(r.day, r.count);
  }
  for (const [day, n] of await countDays(db, tenantId, settledDay, today + 1)) out.set(day, n);
  return out;
}

export async function ticketsByStatus(db: Db, tenantId: string): Promise<Map<string, number>> {
  return toMap(await db('tickets').where({ tenant_id: tenantId }).groupBy('status').select('status as k').count({ n: '*' }));
}

const OPEN = ['open', 'pending'];

export async function openTicketsByPriority(db: Db, tenantId: string): Promise<Map<string, number>> {
  return toMap(await db('tickets').where({ tenant_id: tenantId }).whereIn('status', OPEN).groupBy('priority').select('priority as k').count({ n: '*' }));
}

export async function unassignedOpenTickets(db: Db, tenantId: string): Promise<number> {
  const [row] = await db('tickets').where({ tenant_id: tenantId }).whereIn('status', OPEN).whereNull('assignee_id').count({ n: '*' });
  return Number((row as { n: number | string }).n);
}

/** Seconds from creation to first staff response, of every ticket that has one, ascending. */
export async function firstResponseTimes(db: Db, tenantId: string): Promise<number[]> {
  const rows = await db('tickets')
    .where({ tenant_id: tenantId })
    .whereNotNull('first_response_at')
    .select(db.raw('first_response_at - created_at AS d'))
    .orderBy('d');
  return (rows as { d: number | string }[]).map((r) => Number(r.d) / 1000);
}

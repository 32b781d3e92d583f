/** Queries on `tickets` (one row per room of type `ticket`), always scoped by tenant. */
import type { Db } from './db.ts';
import { applyKeyset, type KeyColumn } from './keyset.ts';

export interface TicketRow {
  room_id: string;
  tenant_id: string;
  requester_id: string;
  assignee_id: string | null;
  status: string;
  priority: string;
  priority_rank: number;
  category: string | null;
  created_at: number;
  first_response_at: number | null;
  resolved_at: number | null;
  closed_at: number | null;
}

/** A ticket with the facts of its room: subject (the room's name), last seq and last activity. */
export interface TicketViewRow extends TicketRow {
  subject: string;
  last_seq: number;
  updated_at: number;
}

export type TicketPatch = Partial<Pick<TicketRow, 'status' | 'priority' | 'priority_rank' | 'category' | 'assignee_id' | 'resolved_at' | 'closed_at'>>;

export interface TicketFilter {
  status?: string;
  priority?: string;
  category?: string;
  assigneeId?: string;
  unassigned?: boolean;
  requesterId?: string;
  createdFrom?: number;
  createdBefore?: number;
}

export type TicketSort = 'newest' | 'oldest' | 'priority' | 'last_activity';

const n = (v: number | string | null) => (v === null ? null : Number(v));
const toView = (r: TicketViewRow): TicketViewRow => ({
  ...r,
  priority_rank: Number(r.priority_rank),
  created_at: Number(r.created_at),
  first_response_at: n(r.first_response_at),
  resolved_at: n(r.resolved_at),
  closed_at: n(r.closed_at),
  last_seq: Number(r.last_seq),
  updated_at: Number(r.updated_at),
});

function view(db: Db, tenantId: string) {
  return db('tickets as t')
    .join('rooms as r', 'r.id', 't.room_id')
    .where('t.tenant_id', tenantId)
    .andWhere('r.tenant_id', tenantId)
    .select('t.*', 'r.name as subject', 'r.last_seq', 'r.updated_at');
}

export async function insertTicket(db: Db, row: TicketRow): Promise<void> {
  await db('tickets').insert(row);
}

export async function findTicket(db: Db, tenantId: string, roomId: string): Promise<TicketViewRow | undefined> {
  const row = await view(db, tenantId).andWhere('t.room_id', roomId).first();
  return row && toView(row);
}

/** The keyset columns of each sort; the cursor holds their values for the last row. */
export const SORT_KEYS: Record<TicketSort, KeyColumn[]> = {
  newest: [{ column: 't.created_at', order: 'desc' }, { column: 't.room_id', order: 'desc' }],
  oldest: [{ column: 't.created_at', order: 'asc' }, { column: 't.room_id', order: 'asc' }],
  priority: [{ column: 't.priority_rank', order: 'desc' }, { column: 't.created_at', order: 'asc' }, { column: 't.room_id', order: 'asc' }],
  last_activity: [{ column: 'r.updated_at', order: 'desc' }, { column: 't.room_id', order: 'desc' }],
};

export function cursorOf(sort: TicketSort, r: TicketViewRow): (string | number)[] {
  switch (sort) {
    case 'priority': return [r.priority_rank, r.created_at, r.room_id];
    case 'last_activity': return [r.updated_at, r.room_id];
    default: return [r.created_at, r.room_id];
  }
}

export async function listTickets(
  db: Db, tenantId: string, f: TicketFilter, sort: TicketSort, after: (string | number)[] | null, limit: number,
): Promise<TicketViewRow[]> {
  const q = view(db, tenantId).limit(limit);
  if (f.status) q.andWhere('t.status', f.status);
  if (f.priority) q.andWhere('t.priority', f.priority);
  if (f.category) q.andWhere('t.category', f.category);
  if (f.assigneeId) q.andWhere('t.assignee_id', f.assigneeId);
  if (f.unassigned) q.whereNull('t.assignee_id');
  if (f.requesterId) q.andWhere('t.requester_id', f.requesterId);
  if (f.createdFrom !== undefined) q.andWhere('t.created_at', '>=', f.createdFrom);
  if (f.createdBefore !== undefined) q.andWhere('t.created_at', '<', f.createdBefore);
  applyKeyset(q, SORT_KEYS[sort], after);
  return (await q).map(toView);
}

/** Changes a ticket only if its status is still `expectStatus` (a concurrent change wins: 0 rows). */
export async function updateTicket(db: Db, tenantId: string, roomId: string, expectStatus: string, patch: TicketPatch): Promise<number> {
  return db('tickets').where({ tenant_id: tenantId, room_id: roomId, status: expectStatus }).update(patch);
}

export async function setAssignee(db: Db, tenantId: string, roomId: string, assigneeId: string): Promise<number> {
  return db('tickets').where({ tenant_id: tenantId, room_id: roomId }).update({ assignee_id: assigneeId });
}

/** The first message of someone other than the requester, if none was recorded yet. */
export async function markFirstResponse(db: Db, tenantId: string, roomId: string, senderId: string, at: number): Promise<number> {
  return db('tickets')
    .where({ tenant_id: tenantId, room_id: roomId })
    .andWhere('requester_id', '<>', senderId)
    .whereNull('first_response_at')
    .update({ first_response_at: at });
}

/**
 * Support tickets: a room of type `ticket` plus a `tickets` row (status, priority, assignee …).
 * Messages, seq, idempotency, receipts and resume are the room's, unchanged.
 */
import { randomUUID } from 'node:crypto';
import type { Db } from '../store/db.ts';
import { findMember, insertMembers, type MemberRow } from '../store/members.ts';
import { unreadCounts } from '../store/messages.ts';
import { insertRoom, updateRoom, type RoomRow } from '../store/rooms.ts';
import { findTenant } from '../store/tenants.ts';
import * as store from '../store/tickets.ts';
import { findUser } from '../store/users.ts';
import type { Ctx, Emit } from './context.ts';
import { DomainError, notFound } from './errors.ts';
import type { TicketChange, TicketState } from './events.ts';
import { memberOut } from './mappers.ts';
import { admitMember } from './members.ts';
import { sendMessage } from './messages.ts';
import { audit, isStaffRole, requireStaff } from './staff.ts';
import type { Caller, Domain, PageOf, UserCaller } from './types.ts';
import { checkText, checkUserId, encodeCursor, invalid, isoOrNull, iso, readPage, requireUser } from './validate.ts';
import type { Ticket, TicketInput, TicketListQuery, TicketPatchInput } from './ticket-types.ts';

type Status = TicketState['status'];
type Priority = TicketState['priority'];
const STATUSES: readonly Status[] = ['open', 'pending', 'resolved', 'closed'];
const PRIORITIES: readonly Priority[] = ['low', 'medium', 'high', 'urgent'];
const SORTS: readonly store.TicketSort[] = ['newest', 'oldest', 'priority', 'last_activity'];

/** Legal status changes (spec: TicketStatus). Anything else, including no change, is CONFLICT. */
const NEXT: Record<Status, readonly Status[]> = {
  open: ['pending', 'resolved', 'closed'],
  pending: ['open', 'resolved', 'closed'],
  resolved: ['open', 'closed'],
  closed: ['open'],
};

function oneOf<T extends string>(field: string, value: unknown, allowed: readonly T[]): T {
  if (!allowed.includes(value as T)) throw invalid(field, `must be one of ${allowed.join(', ')}`);
  return value as T;
}

async function checkCategory(ctx: Ctx, tenantId: string, value: unknown): Promise<string | null> {
  if (value === undefined || value === null) return null;
  const tenant = await findTenant(ctx.db, tenantId);
  const allowed = (JSON.parse(tenant?.settings ?? '{}') as { ticket_categories?: string[] }).ticket_categories ?? [];
  if (typeof value !== 'string' || !allowed.includes(value)) {
    throw invalid('category', allowed.length ? `must be one of ${allowed.join(', ')}` : 'this tenant defines no ticket categories');
  }
  return value;
}

export function ticketState(r: store.TicketViewRow, updatedAt: number): TicketState {
  return {
    status: r.status as Status, priority: r.priority as Priority, category: r.category,
    requester_id: r.requester_id, assignee_id: r.assignee_id, updated_at: iso(updatedAt),
  };
}

function ticketOut(r: store.TicketViewRow, unread: number): Ticket {
  return {
    id: r.room_id, subject: r.subject, status: r.status as Status, priority: r.priority as Priority, category: r.category,
    requester_id: r.requester_id, assignee_id: r.assignee_id, message_count: r.last_seq, unread_count: unread, last_seq: r.last_seq,
    created_at: iso(r.created_at), updated_at: iso(r.updated_at), last_activity_at: iso(r.updated_at),
    first_response_at: isoOrNull(r.first_response_at), resolved_at: isoOrNull(r.resolved_at), closed_at: isoOrNull(r.closed_at),
  };
}

async function ticketsOut(ctx: Ctx, me: UserCaller, rows: store.TicketViewRow[]): Promise<Ticket[]> {
  const unread = await unreadCounts(ctx.db, me.tenantId, me.user.id, rows.map((r) => r.room_id));
  return rows.map((r) => ticketOut(r, unread.get(r.room_id) ?? 0));
}

/** The ticket if the caller may see it: a member of its room, or anyone with a staff role. */
async function visibleTicket(ctx: Ctx, me: UserCaller, ticketId: string) {
  const row = typeof ticketId === 'string' && ticketId.length <= 64 ? await store.findTicket(ctx.db, me.tenantId, ticketId) : undefined;
  if (!row) throw notFound('Ticket');
  const member = await findMember(ctx.db, me.tenantId, row.room_id, me.user.id);
  if (!member && !isStaffRole(me.user.role)) throw notFound('Ticket');
  return { row, member };
}

async function create(ctx: Ctx, caller: Caller, input: TicketInput): Promise<Ticket> {
  const me = requireUser(caller);
  const subject = checkText('subject', input.subject, 200).trim();
  const priority = input.priority === undefined ? 'medium' : oneOf('priority', input.priority, PRIORITIES);
  checkText('initial_message', input.initial_message, 4000);
  const category = await checkCategory(ctx, me.tenantId, input.category);
  if (!me.user.permissions.can_send_message) throw new DomainError('AUTHORIZATION_ERROR', 'You may not send messages');
  const now = ctx.now();
  const room: RoomRow = {
    id: randomUUID(), tenant_id: me.tenantId, type: 'ticket', name: subject, dm_key: null, created_by: me.user.id,
    last_seq: 0, created_at: now, updated_at: now, archived_at: null, slow_mode_seconds: 0,
  };
  const member: MemberRow = { tenant_id: me.tenantId, room_id: room.id, user_id: me.user.id, role: 'member', delivered_seq: 0, read_seq: 0, joined_at: now };
  await ctx.change(async (trx, emit) => {
    await insertRoom(trx, room);
    await insertMembers(trx, [member]);
    await store.insertTicket(trx, {
      room_id: room.id, tenant_id: me.tenantId, requester_id: me.user.id, assignee_id: null, status: 'open', priority,
      priority_rank: PRIORITIES.indexOf(priority), category, created_at: now, first_response_at: null, resolved_at: null, closed_at: null,
    });
    emit({ type: 'member.joined', tenant_id: me.tenantId, room_id: room.id, member: memberOut(member) });
  });
  // The first message goes through the normal send path, so it is seq 1 like any other.
  await sendMessage(ctx, me, room.id, { content: input.initial_message, client_msg_id: input.client_msg_id ?? null });
  const { row } = await visibleTicket(ctx, me, room.id);
  return ticketOut(row, 0);
}

function readFilters(q: TicketListQuery): store.TicketFilter {
  const time = (field: string, v: string | undefined) => {
    if (v === undefined) return undefined;
    const ms = Date.parse(v);
    if (!Number.isFinite(ms)) throw invalid(field, 'must be an ISO-8601 date-time');
    return ms;
  };
  return {
    status: q.status === undefined ? undefined : oneOf('status', q.status, STATUSES),
    priority: q.priority === undefined ? undefined : oneOf('priority', q.priority, PRIORITIES),
    category: q.category,
    assigneeId: q.assignee_id === undefined ? undefined : checkUserId('assignee_id', q.assignee_id),
    unassigned: q.unassigned === true,
    requesterId: q.requester_id === undefined ? undefined : checkUserId('requester_id', q.requester_id),
    createdFrom: time('created_after', q.created_after),
    createdBefore: time('created_before', q.created_before),
  };
}

async function listPage(ctx: Ctx, me: UserCaller, f: store.TicketFilter, sort: store.TicketSort, q: TicketListQuery): Promise<PageOf<Ticket>> {
  const shape: ('number' | 'string')[] = sort === 'priority' ? ['number', 'number', 'string'] : ['number', 'string'];
  const { limit, after } = readPage<(string | number)[]>({ limit: q.limit, cursor: q.cursor }, shape);
  const rows = await store.listTickets(ctx.db, me.tenantId, f, sort, after, limit + 1);
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return { items: await ticketsOut(ctx, me, page), next_cursor: rows.length > limit && last ? encodeCursor(store.cursorOf(sort, last)) : null };
}

/** Who may make which change: the requester closes or reopens; staff roles do any legal change. */
function checkChange(me: UserCaller, row: store.TicketViewRow, to: Status | undefined, staffOnly: boolean): void {
  const staff = isStaffRole(me.user.role);
  if (to !== undefined && !NEXT[row.status as Status].includes(to)) {
    throw new DomainError('CONFLICT', `A ticket cannot go from ${row.status} to ${to}`, [{ field: 'status', message: `not allowed from ${row.status}` }]);
  }
  if (staff) return;
  if (me.user.id !== row.requester_id) throw new DomainError('AUTHORIZATION_ERROR', 'Only the requester or staff may change a ticket');
  if (staffOnly) throw new DomainError('AUTHORIZATION_ERROR', 'Only staff may change priority or category');
  const reopen = to === 'open' && (row.status === 'resolved' || row.status === 'closed');
  if (to !== undefined && to !== 'closed' && !reopen) throw new DomainError('AUTHORIZATION_ERROR', 'The requester may only close or reopen a ticket');
}

async function update(ctx: Ctx, caller: Caller, ticketId: string, patch: TicketPatchInput): Promise<Ticket> {
  const me = requireUser(caller);
  const to = patch.status === undefined ? undefined : oneOf('status', patch.status, STATUSES);
  const priority = patch.priority === undefined ? undefined : oneOf('priority', patch.priority, PRIORITIES);
  const subject = patch.subject === undefined ? undefined : checkText('subject', patch.subject, 200).trim();
  if (to === undefined && priority === undefined && subject === undefined && patch.category === undefined) throw invalid('body', 'name something to change');
  const { row } = await visibleTicket(ctx, me, ticketId);
  const category = patch.category === undefined ? undefined : await checkCategory(ctx, me.tenantId, patch.category);
  checkChange(me, row, to, priority !== undefined || category !== undefined);
  const now = ctx.now();
  const changes: store.TicketPatch = {};
  const changed: TicketChange[] = [];
  if (to !== undefined) {
    Object.assign(changes, { status: to }, to === 'resolved' ? { resolved_at: now } : {}, to === 'closed' ? { closed_at: now } : {},
      to === 'open' ? { resolved_at: null, closed_at: null } : {});
    changed.push('status');
  }
  if (priority !== undefined && priority !== row.priority) {
    Object.assign(changes, { priority, priority_rank: PRIORITIES.indexOf(priority) });
    changed.push('priority');
  }
  if (category !== undefined && category !== row.category) {
    changes.category = category;
    changed.push('category');
  }
  if (subject !== undefined && subject !== row.subject) changed.push('subject');
  if (changed.length === 0) return (await ticketsOut(ctx, me, [row]))[0]!;
  await ctx.change(async (trx, emit) => {
    if (Object.keys(changes).length && (await store.updateTicket(trx, me.tenantId, row.room_id, row.status, changes)) === 0) {
      throw new DomainError('CONFLICT', 'The ticket changed meanwhile; read it again');
    }
    await updateRoom(trx, me.tenantId, row.room_id, { updated_at: now, ...(subject !== undefined ? { name: subject } : {}) });
    await announce(ctx, trx, emit, me, row.room_id, changed, now, 'ticket.updated');
  });
  return (await ticketsOut(ctx, me, [(await store.findTicket(ctx.db, me.tenantId, row.room_id))!]))[0]!;
}

/** Inside the change's transaction: the ticket.updated event and, for staff, the audit entry. */
async function announce(ctx: Ctx, trx: Db, emit: Emit, me: UserCaller, roomId: string, changed: TicketChange[], now: number, action: string) {
  const fresh = (await store.findTicket(trx, me.tenantId, roomId))!;
  emit({ type: 'ticket.updated', tenant_id: me.tenantId, room_id: roomId, ticket: ticketState(fresh, now), changed: changed as [TicketChange], by: me.user.id });
  if (isStaffRole(me.user.role)) await audit(ctx, me.tenantId, { actor: me.user.id, action, roomId, target: fresh.assignee_id, detail: { changed } }, trx);
}

async function assign(ctx: Ctx, caller: Caller, ticketId: string, input: { assignee_id: string }): Promise<Ticket> {
  const me = requireUser(caller);
  const assigneeId = checkUserId('assignee_id', input.assignee_id);
  const { row } = await visibleTicket(ctx, me, ticketId);
  requireStaff(me);
  const assignee = await findUser(ctx.db, me.tenantId, assigneeId);
  if (!assignee) throw invalid('assignee_id', `no user "${assigneeId}"`);
  if (!isStaffRole(assignee.role as UserCaller['user']['role'])) throw invalid('assignee_id', 'must have a staff role');
  const now = ctx.now();
  // Joining goes through the single add-member path (bans are honoured there).
  if (!(await findMember(ctx.db, me.tenantId, row.room_id, assigneeId))) await admitMember(ctx, me.tenantId, row.room_id, assigneeId, 'moderator');
  await ctx.change(async (trx, emit) => {
    await store.setAssignee(trx, me.tenantId, row.room_id, assigneeId);
    await updateRoom(trx, me.tenantId, row.room_id, { updated_at: now });
    await announce(ctx, trx, emit, me, row.room_id, ['assignee_id'], now, 'ticket.assigned');
  });
  return (await ticketsOut(ctx, me, [(await store.findTicket(ctx.db, me.tenantId, row.room_id))!]))[0]!;
}

export function ticketsApi(ctx: Ctx): Domain['tickets'] {
  return {
    create: (caller, input) => create(ctx, caller, input),
    async list(caller, q) {
      const me = requireStaff(caller);
      const sort = q.sort === undefined ? 'newest' : oneOf('sort', q.sort, SORTS);
      return listPage(ctx, me, readFilters(q), sort, q);
    },
    async listMine(caller, q) {
      const me = requireUser(caller);
      const status = q.status === undefined ? undefined : oneOf('status', q.status, STATUSES);
      return listPage(ctx, me, { requesterId: me.user.id, status }, 'newest', q);
    },
    async get(caller, ticketId) {
      const me = requireUser(caller);
      const { row } = await visibleTicket(ctx, me, ticketId);
      return (await ticketsOut(ctx, me, [row]))[0]!;
    },
    update: (caller, ticketId, patch) => update(ctx, caller, ticketId, patch),
    assign: (caller, ticketId, input) => assign(ctx, caller, ticketId, input),
  };
}

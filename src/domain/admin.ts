/**
 * The admin panel (staff roles): every conversation of the tenant, one user's conversations, the
 * tenant's figures, reading any room (each read of a room the reader is not in is audited), and
 * the audit log itself.
 */
import * as admin from '../store/admin.ts';
import { listAudit } from '../store/audit.ts';
import { countMembers, findMember } from '../store/members.ts';
import { listRoomMessages } from '../store/messages.ts';
import { findRoom, listMemberRooms } from '../store/rooms.ts';
import { findUser } from '../store/users.ts';
import type { Ctx } from './context.ts';
import { notFound } from './errors.ts';
import { messageOut } from './mappers.ts';
import { roomViews } from './room-views.ts';
import { audit, requireStaff } from './staff.ts';
import type { AdminStats, AuditEntry, Conversation, ConversationQuery } from './admin-types.ts';
import type { Domain, PageOf } from './types.ts';
import { checkInt, checkLimit, checkUserId, decodeCursor, encodeCursor, invalid, iso, isoOrNull, readPage } from './validate.ts';

const FIRST_MEMBERS = 5;
const DAY = 86_400_000;

function time(field: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const ms = Date.parse(v);
  if (!Number.isFinite(ms)) throw invalid(field, 'must be an ISO-8601 date-time');
  return ms;
}

async function conversationsOut(ctx: Ctx, tenantId: string, rows: admin.ConversationRow[]): Promise<Conversation[]> {
  const ids = rows.map((r) => r.id);
  const dms = rows.filter((r) => r.type === 'dm').map((r) => r.id);
  const [counts, members, unread] = await Promise.all([
    countMembers(ctx.db, tenantId, ids), admin.firstMembers(ctx.db, tenantId, ids, FIRST_MEMBERS), admin.unreadByMember(ctx.db, tenantId, dms),
  ]);
  return rows.map((r) => ({
    id: r.id, type: r.type as Conversation['type'], name: r.name, created_by: r.created_by, created_at: iso(r.created_at),
    last_seq: r.last_seq, last_activity_at: iso(r.updated_at), archived_at: isoOrNull(r.archived_at), member_count: counts.get(r.id) ?? 0,
    members: members.filter((m) => m.room_id === r.id).map((m) => ({
      user_id: m.user_id, role: m.role as 'owner' | 'moderator' | 'member', read_seq: m.read_seq,
      unread_count: r.type === 'dm' ? unread.get(`${r.id}\n${m.user_id}`) ?? 0 : null,
    })),
    ticket: r.t_status === null ? null : {
      status: r.t_status as 'open', priority: r.t_priority as 'medium', requester_id: r.t_requester_id!, assignee_id: r.t_assignee_id,
    },
  }));
}

async function listConversations(ctx: Ctx, caller: Parameters<Domain['admin']['listConversations']>[0], q: ConversationQuery) {
  const me = requireStaff(caller);
  const { limit, after } = readPage<[number, string]>({ limit: q.limit, cursor: q.cursor }, ['number', 'string']);
  const f: admin.ConversationFilter = {
    type: q.type, status: q.status, memberId: q.member_id === undefined ? undefined : checkUserId('member_id', q.member_id),
    activeFrom: time('active_after', q.active_after), activeBefore: time('active_before', q.active_before),
  };
  const [rows, total] = await Promise.all([
    admin.listConversations(ctx.db, me.tenantId, f, after, limit + 1),
    q.include_total ? admin.countConversations(ctx.db, me.tenantId, f) : Promise.resolve(null),
  ]);
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return {
    items: await conversationsOut(ctx, me.tenantId, page),
    next_cursor: rows.length > limit && last ? encodeCursor([last.updated_at, last.id]) : null,
    total,
  };
}

/** The median of ascending values, or null for none. */
const median = (xs: number[]): number | null => {
  if (xs.length === 0) return null;
  const mid = Math.floor(xs.length / 2);
  return xs.length % 2 ? xs[mid]! : (xs[mid - 1]! + xs[mid]!) / 2;
};

async function stats(ctx: Ctx, caller: Parameters<Domain['admin']['stats']>[0]): Promise<AdminStats> {
  const { tenantId } = requireStaff(caller);
  const today = Math.floor(ctx.now() / DAY);
  const db = ctx.db;
  const [users, byType, messages, perDay, byStatus, openByPriority, unassigned, unread, responses] = await Promise.all([
    admin.countUsers(db, tenantId), admin.roomsByType(db, tenantId), admin.messageTotal(db, tenantId),
    admin.messagesPerDay(db, tenantId, today - 29, today), admin.ticketsByStatus(db, tenantId), admin.openTicketsByPriority(db, tenantId),
    admin.unassignedOpenTickets(db, tenantId), admin.unreadTotal(db, tenantId), admin.firstResponseTimes(db, tenantId),
  ]);
  const of = (m: Map<string, number>, k: string) => m.get(k) ?? 0;
  return {
    users,
    rooms_by_type: { dm: of(byType, 'dm'), group: of(byType, 'group'), channel: of(byType, 'channel'), ticket: of(byType, 'ticket') },
    messages,
    tickets: {
      by_status: { open: of(byStatus, 'open'), pending: of(byStatus, 'pending'), resolved: of(byStatus, 'resolved'), closed: of(byStatus, 'closed') },
      open_by_priority: { low: of(openByPriority, 'low'), medium: of(openByPriority, 'medium'), high: of(openByPriority, 'high'), urgent: of(openByPriority, 'urgent') },
      unassigned,
    },
    messages_per_day: Array.from({ length: 30 }, (_, i) => {
      const day = today - 29 + i;
      return { date: iso(day * DAY).slice(0, 10), count: perDay.get(day) ?? 0 };
    }),
    unread_total: unread,
    median_first_response_seconds: median(responses),
  };
}

async function readRoom(ctx: Ctx, caller: Parameters<Domain['admin']['readRoom']>[0], roomId: string, q: Parameters<Domain['admin']['readRoom']>[2]) {
  const me = requireStaff(caller);
  const limit = checkLimit(q.limit);
  const afterSeq = q.after_seq === undefined ? undefined : checkInt('after_seq', q.after_seq, 0);
  const beforeSeq = q.before_seq === undefined ? undefined : checkInt('before_seq', q.before_seq, 1);
  const room = typeof roomId === 'string' && roomId.length <= 64 ? await findRoom(ctx.db, me.tenantId, roomId) : undefined;
  if (!room) throw notFound('Room');
  if (!(await findMember(ctx.db, me.tenantId, room.id, me.user.id))) {
    await audit(ctx, me.tenantId, { actor: me.user.id, action: 'room.read', roomId: room.id, detail: { after_seq: afterSeq ?? null, before_seq: beforeSeq ?? null } });
  }
  const newestFirst = afterSeq === undefined;
  const rows = await listRoomMessages(ctx.db, me.tenantId, room.id, { afterSeq, beforeSeq, limit: limit + 1, newestFirst });
  const page = rows.slice(0, limit);
  if (newestFirst) page.reverse();
  return { items: page.map(messageOut), has_more: rows.length > limit };
}

function auditOut(r: Awaited<ReturnType<typeof listAudit>>[number]): AuditEntry {
  return {
    id: String(r.pk), actor_id: r.actor_id, action: r.action, room_id: r.room_id, target_user_id: r.target_user_id,
    detail: r.detail === null ? null : (JSON.parse(r.detail) as Record<string, unknown>), created_at: iso(r.created_at),
  };
}

export function adminApi(ctx: Ctx): Domain['admin'] {
  return {
    listConversations: (caller, q) => listConversations(ctx, caller, q),
    stats: (caller) => stats(ctx, caller),
    async listUserConversations(caller, userId, page) {
      const me = requireStaff(caller);
      if (typeof userId !== 'string' || !(await findUser(ctx.db, me.tenantId, userId))) throw notFound('User');
      const { limit, after } = readPage<[number, string]>(page, ['number', 'string']);
      const rows = await listMemberRooms(ctx.db, me.tenantId, userId, after, limit + 1);
      const pageRows = rows.slice(0, limit);
      const last = pageRows[pageRows.length - 1];
      return {
        items: await roomViews(ctx, me.tenantId, userId, pageRows, true), // staff read every conversation
        next_cursor: rows.length > limit && last ? encodeCursor([last.updated_at, last.id]) : null,
      };
    },
    readRoom: (caller, roomId, q) => readRoom(ctx, caller, roomId, q),
    async listAuditLog(caller, q): Promise<PageOf<AuditEntry>> {
      const me = requireStaff(caller);
      const limit = checkLimit(q.limit);
      const before = q.cursor ? decodeCursor<[number]>(q.cursor, ['number'])[0] : null;
      const rows = await listAudit(ctx.db, me.tenantId, { action: q.action, actorId: q.actor_id, roomId: q.room_id }, before, limit + 1);
      const page = rows.slice(0, limit);
      const last = page[page.length - 1];
      return { items: page.map(auditOut), next_cursor: rows.length > limit && last ? encodeCursor([last.pk]) : null };
    },
  };
}

/** Builds Room / RoomDetail as one member sees them, batching the per-room lookups. */
import { countMembers, listMembers } from '../store/members.ts';
import { findBySeqs, unreadCounts } from '../store/messages.ts';
import type { MemberRoomRow } from '../store/rooms.ts';
import type { Ctx } from './context.ts';
import { memberOut, messageOut, roomSummary } from './mappers.ts';
import type { MemberRole, Message, Room, RoomDetail } from './shapes.ts';

/**
 * Rooms for `userId`, in the order given: one query each for counts, unread and last messages.
 * A viewer who may not read messages (`canRead` false) gets no `last_message`.
 */
export async function roomViews(ctx: Ctx, tenantId: string, userId: string, rows: MemberRoomRow[], canRead: boolean): Promise<Room[]> {
  const ids = rows.map((r) => r.id);
  const newest = rows.filter((r) => canRead && r.last_seq > 0).map((r) => ({ room_id: r.id, seq: r.last_seq }));
  const [counts, unread, lastRows] = await Promise.all([
    countMembers(ctx.db, tenantId, ids),
    unreadCounts(ctx.db, tenantId, userId, ids),
    findBySeqs(ctx.db, tenantId, newest),
  ]);
  const last = new Map<string, Message>(lastRows.map((m) => [m.room_id, messageOut(m)]));
  return rows.map((r) => ({
    ...roomSummary(r),
    member_count: counts.get(r.id) ?? 0,
    unread_count: unread.get(r.id) ?? 0,
    // The newest message, even a tombstone: a client shows "message deleted" rather than an older one.
    last_message: last.get(r.id) ?? null,
    my_role: r.my_role as MemberRole,
  }));
}

/** Members embedded in a single-room response (spec: Room.members maxItems); the rest are paged. */
const EMBEDDED_MEMBERS = 100;

export async function roomDetail(ctx: Ctx, tenantId: string, userId: string, row: MemberRoomRow, canRead: boolean): Promise<RoomDetail> {
  const [[room], members] = await Promise.all([roomViews(ctx, tenantId, userId, [row], canRead), listMembers(ctx.db, tenantId, row.id, { limit: EMBEDDED_MEMBERS })]);
  return { ...room!, members: members.map(memberOut) };
}

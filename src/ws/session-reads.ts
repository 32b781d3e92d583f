/**
 * The reads a session start makes (the user's rooms with their heads, the unread notification
 * count), batched per turn of the event loop: every session that asks in one turn is answered by
 * one query per tenant (`… WHERE user_id IN (…)`), not one query each. When thousands of clients
 * connect at once, per-query overhead (query building, pool, file checks) was most of a connect's
 * cost. A read asked for is always run after it was asked for (in a later turn), so a session
 * that registers itself and then asks sees everything committed before it registered.
 */
import type { Domain } from '../domain/index.ts';
import { TurnBatch } from '../domain/turn-batch.ts';

type RoomCursor = { room_id: string; last_seq: number; delivered_seq: number };

export class SessionReads {
  private readonly rooms: TurnBatch<RoomCursor[]>;
  private readonly unread: TurnBatch<number>;

  constructor(domain: Domain) {
    this.rooms = new TurnBatch((tenantId, userIds) => domain.rooms.roomsOfUsers(tenantId, userIds), []);
    this.unread = new TurnBatch((tenantId, userIds) => domain.notifications.unreadCounts(tenantId, userIds), 0);
  }

  /** The user's rooms with their newest seq and the user's delivered cursor. */
  roomsOfUser(tenantId: string, userId: string): Promise<RoomCursor[]> {
    return this.rooms.load(tenantId, userId);
  }

  unreadCount(tenantId: string, userId: string): Promise<number> {
    return this.unread.load(tenantId, userId);
  }
}

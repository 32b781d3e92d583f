/**
 * Events the domain publishes on the bus after each committed change. Every event names its
 * tenant and room so a bus can route it to the room's topic without looking inside.
 */
import type { Member, Message, RoomType, User } from './shapes.ts';
import type { Notification } from './wire.ts';
import type { Unannounced } from '../bus/unannounced.ts';

/** Room facts that are the same for every member (Room adds per-member fields). */
export interface RoomSummary {
  id: string;
  type: RoomType;
  name: string | null;
  created_by: string;
  created_at: string;
  updated_at: string;
  last_seq: number;
  archived_at: string | null;
  slow_mode_seconds: number;
}

export type MessageEvent = {
  type: 'message.created' | 'message.updated' | 'message.deleted';
  tenant_id: string;
  room_id: string;
  message: Message;
};

export type ReceiptEvent = {
  type: 'receipt';
  tenant_id: string;
  room_id: string;
  user_id: string;
  delivered_seq: number;
  read_seq: number;
};

export type MemberJoinedEvent = { type: 'member.joined'; tenant_id: string; room_id: string; member: Member };
export type MemberLeftEvent = { type: 'member.left'; tenant_id: string; room_id: string; user_id: string };
export type RoomEvent = { type: 'room.updated' | 'room.deleted'; tenant_id: string; room_id: string; room: RoomSummary };

/** Which sessions a revoked credential opened (every node closes them with 4010). */
export type CredentialScope =
  | { kind: 'tenant' } // the tenant was deleted
  | { kind: 'api_key' } // the tenant's secret key was rotated
  | { kind: 'publishable_key'; key_id: string } // rotated or revoked
  | { kind: 'user'; user_id: string } // deleted (or an expired guest purged)
  | { kind: 'tokens'; token_ids: string[] }; // revoked (logout, refresh-token reuse, revokeUserToken)

/** Not a room event: it names no room, and every node checks its own sessions. */
export type CredentialsRevokedEvent = { type: 'credentials.revoked'; tenant_id: string; scope: CredentialScope; room_id: null };
/** A user's role or permissions changed: sessions update in place. */
export type UserUpdatedEvent = { type: 'user.updated'; tenant_id: string; user: User; room_id: null };


/** A ticket's shared state, as broadcast in `ticket.updated`. */
export interface TicketState {
  status: 'open' | 'pending' | 'resolved' | 'closed';
  priority: 'low' | 'medium' | 'high' | 'urgent';
  category: string | null;
  requester_id: string;
  assignee_id: string | null;
  updated_at: string;
}
export type TicketChange = 'status' | 'priority' | 'category' | 'subject' | 'assignee_id';
export type TicketUpdatedEvent = {
  type: 'ticket.updated'; tenant_id: string; room_id: string; ticket: TicketState; changed: [TicketChange, ...TicketChange[]]; by: string;
};

/** Moderation of one member of a room; `until` null = permanent (ban) or lifted (mute). */
export type MemberModeratedEvent = {
  type: 'member.banned' | 'member.muted'; tenant_id: string; room_id: string; user_id: string; until: string | null; by: string;
};
export type MessagesPurgedEvent = {
  type: 'messages.purged'; tenant_id: string; room_id: string; seqs: number[]; user_id?: string; deleted_at: string; by: string;
};
/**
 * A tenant-wide ban (or its lifting: `until` is then the past): not about one room, so `room_id`
 * is null. WebSocket nodes close the user's connections (close code 4013).
 */
export type UserBannedEvent = {
  type: 'user.banned' | 'user.unbanned'; tenant_id: string; room_id: null; user_id: string; until: string | null; by: string;
};

/**
 * A notification for one user (`sendNotification`): WebSocket nodes send it to each of the user's
 * connections. Published with ctx.announce, not written to the outbox (the webhook for it is
 * `notification.created`, for users with no open connection).
 */
export type NotificationEvent = { type: 'notification'; tenant_id: string; room_id: null; user_id: string; notification: Notification };

export type DomainEvent =
  | MessageEvent | ReceiptEvent | MemberJoinedEvent | MemberLeftEvent | RoomEvent
  | TicketUpdatedEvent | MemberModeratedEvent | MessagesPurgedEvent | UserBannedEvent | NotificationEvent
  | CredentialsRevokedEvent | UserUpdatedEvent;

/** What the domain needs from a bus: fire-and-forget publish. */
export interface EventSink {
  publish(evt: DomainEvent): void;
  /** Committed messages whose announcement waits (a pipelined WebSocket send): see bus/unannounced.ts. */
  unannounced?: Unannounced;
}

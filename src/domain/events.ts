/**
 * Events the domain publishes on the bus after each committed change. Every event names its
 * tenant and room so a bus can route it to the room's topic without looking inside.
 */
import type { Member, Message, RoomType, User } from './shapes.ts';

/** Room facts that are the same for every member (Room adds per-member fields). */
export interface RoomSummary {
  id: string;
  type: RoomType;
  name: string | null;
  created_by: string;
  created_at: string;
  updated_at: string;
  last_seq: number;
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
export type CredentialsRevokedEvent = { type: 'credentials.revoked'; tenant_id: string; scope: CredentialScope; room_id?: undefined };
/** A user's role or permissions changed: sessions update in place. */
export type UserUpdatedEvent = { type: 'user.updated'; tenant_id: string; user: User; room_id?: undefined };

export type DomainEvent = MessageEvent | ReceiptEvent | MemberJoinedEvent | MemberLeftEvent | RoomEvent | CredentialsRevokedEvent | UserUpdatedEvent;

/** What the domain needs from a bus: fire-and-forget publish. */
export interface EventSink {
  publish(evt: DomainEvent): void;
}

/**
 * Events the domain publishes on the bus after each committed change. Every event names its
 * tenant and room so a bus can route it to the room's topic without looking inside.
 */
import type { Member, Message, RoomType } from './shapes.ts';

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

export type DomainEvent = MessageEvent | ReceiptEvent | MemberJoinedEvent | MemberLeftEvent | RoomEvent;

/** What the domain needs from a bus: fire-and-forget publish. */
export interface EventSink {
  publish(evt: DomainEvent): void;
}

/** The domain's public API (see /work/plan.md § Domain API): what HTTP handlers and the WS node call. */
import type { Knex } from 'knex';
import type { AdminStats, AuditEntry, Conversation, ConversationQuery } from './admin-types.ts';
import type { EventSink } from './events.ts';
import type {
  BanInput, MuteInput, PurgeInput, PurgeResult, RoomBan, RoomMemberDetail, RoomMute, UserBan, UserBanInput,
} from './moderation-types.ts';
import type { Ticket, TicketInput, TicketListQuery, TicketPatchInput } from './ticket-types.ts';
import type { WebhookDeliveriesApi } from './webhook-deliveries.ts';
import type { WebhooksApi } from './webhooks.ts';
import type { UserStatusApi } from './user-status.ts';
import type {
  Member, Message, MemberRole, Permissions, ReadCursor, Role, RoomDetail, Room, RoomType, Tenant, TenantSettings, User, UserToken,
} from './shapes.ts';

export type Caller =
  | { kind: 'tenant'; tenantId: string } // X-API-Key alone
  | { kind: 'user'; tenantId: string; user: User; via: 'key' | 'token' }; // key + X-User-Id, or Bearer token
export type UserCaller = Extract<Caller, { kind: 'user' }>;

export type Page = { limit?: number; cursor?: string };
export type PageOf<T> = { items: T[]; next_cursor: string | null };

/** The tenant as authentication sees it (never carries the key hash or JWT secret). */
export type TenantRecord = Tenant;

/** The subset of Config the domain reads; the full Config satisfies it. */
export interface DomainConfig {
  jwtIssuer: string;
  rateLimitPerSecond: number;
  rateLimitBurst: number;
  /** Let webhook URLs reach private addresses (WEBHOOK_ALLOW_PRIVATE); off when absent. */
  webhookAllowPrivate?: boolean;
}

/** Structural logger (pino's Logger satisfies it). */
export interface DomainLog {
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface DomainDeps {
  db: Knex;
  bus: EventSink;
  config: DomainConfig;
  log: DomainLog;
  now?: () => number; // epoch ms; tests inject a clock
}

export interface UserInput {
  id: string;
  username: string;
  email?: string | null;
  display_name?: string | null;
  role?: Role;
  permissions?: Partial<Permissions>;
}
export type UserPatchInput = Partial<Omit<UserInput, 'id'>>;

export interface RoomInput { type: RoomType; name?: string | null; members: string[] }
export interface MessageInput { content: string; meta?: Record<string, unknown> | null; client_msg_id?: string | null }
export interface MessageQuery { after_seq?: number; before_seq?: number; limit?: number }
export interface Health { database: { ok: boolean; writable: boolean; driver: 'sqlite' | 'mysql' } }

export interface Domain {
  tenants: {
    create(input: { name: string; settings?: Partial<TenantSettings> }): Promise<{ tenant: Tenant; api_key: string }>;
    list(page: Page): Promise<PageOf<Tenant>>;
    get(id: string): Promise<Tenant>;
    update(id: string, patch: { name?: string; settings?: Partial<TenantSettings> }): Promise<Tenant>;
    remove(id: string): Promise<void>;
    rotateKey(id: string): Promise<{ tenant: Tenant; api_key: string }>;
    authenticateKey(apiKey: string): Promise<TenantRecord | null>;
  };
  users: {
    create(caller: Caller, input: UserInput): Promise<User>;
    list(caller: Caller, page: Page): Promise<PageOf<User>>;
    get(caller: Caller, userId: string): Promise<User>;
    update(caller: Caller, userId: string, patch: UserPatchInput): Promise<User>;
    remove(caller: Caller, userId: string): Promise<void>;
    resolve(tenantId: string, userId: string): Promise<User | null>;
  };
  tokens: {
    mint(caller: Caller, userId: string, input: { ttl_seconds?: number }): Promise<UserToken>;
    /** `userId`, when given (the REST path names it), must be the token's user. */
    revoke(caller: Caller, tokenId: string, userId?: string): Promise<void>;
    verify(token: string): Promise<{ tenant: TenantRecord; user: User; tokenId: string }>;
  };
  rooms: {
    create(caller: Caller, input: RoomInput): Promise<{ room: RoomDetail; created: boolean }>;
    list(caller: Caller, page: Page, opts?: { includeArchived?: boolean }): Promise<PageOf<Room>>;
    get(caller: Caller, roomId: string): Promise<RoomDetail>;
    update(caller: Caller, roomId: string, patch: { name?: string | null; slow_mode_seconds?: number }): Promise<RoomDetail>;
    archive(caller: Caller, roomId: string): Promise<RoomDetail>;
    unarchive(caller: Caller, roomId: string): Promise<RoomDetail>;
    getMember(caller: Caller, roomId: string, userId: string): Promise<RoomMemberDetail>;
    updateMember(caller: Caller, roomId: string, userId: string, input: { role: MemberRole }): Promise<Member>;
    remove(caller: Caller, roomId: string): Promise<void>;
    listMembers(caller: Caller, roomId: string, page?: Page): Promise<PageOf<Member>>;
    addMember(caller: Caller, roomId: string, input: { user_id: string; role?: MemberRole }): Promise<Member>;
    removeMember(caller: Caller, roomId: string, userId: string): Promise<void>;
    roomsOfUser(tenantId: string, userId: string): Promise<{ room_id: string; last_seq: number; delivered_seq: number }[]>;
  };
  messages: {
    /**
     * `onStored` runs right after COMMIT and before message.created is published: the WebSocket
     * sends its message.ack there, so the sender's own message.created arrives after the ack.
     */
    send(caller: Caller, roomId: string, input: MessageInput, opts?: { onStored?: (message: Message) => void }): Promise<{ message: Message; created: boolean }>;
    list(caller: Caller, roomId: string, q: MessageQuery): Promise<{ items: Message[]; has_more: boolean }>;
    get(caller: Caller, roomId: string, messageId: string): Promise<Message>;
    edit(caller: Caller, roomId: string, messageId: string, patch: { content?: string; meta?: Record<string, unknown> | null }): Promise<Message>;
    remove(caller: Caller, roomId: string, messageId: string): Promise<Message>;
    listAfter(caller: Caller, q: { after?: string; limit?: number }): Promise<PageOf<Message>>;
  };
  receipts: {
    ack(caller: Caller, input: { room_id: string; seq: number }): Promise<ReadCursor>;
    read(caller: Caller, roomId: string, input: { seq: number }): Promise<ReadCursor>;
  };
  tickets: {
    create(caller: Caller, input: TicketInput): Promise<Ticket>;
    list(caller: Caller, q: TicketListQuery): Promise<PageOf<Ticket>>;
    listMine(caller: Caller, q: { status?: string; limit?: number; cursor?: string }): Promise<PageOf<Ticket>>;
    get(caller: Caller, ticketId: string): Promise<Ticket>;
    update(caller: Caller, ticketId: string, patch: TicketPatchInput): Promise<Ticket>;
    assign(caller: Caller, ticketId: string, input: { assignee_id: string }): Promise<Ticket>;
  };
  admin: {
    listConversations(caller: Caller, q: ConversationQuery): Promise<PageOf<Conversation> & { total: number | null }>;
    stats(caller: Caller): Promise<AdminStats>;
    listUserConversations(caller: Caller, userId: string, page: Page): Promise<PageOf<Room>>;
    readRoom(caller: Caller, roomId: string, q: MessageQuery): Promise<{ items: Message[]; has_more: boolean }>;
    listAuditLog(caller: Caller, q: { action?: string; actor_id?: string; room_id?: string; limit?: number; cursor?: string }): Promise<PageOf<AuditEntry>>;
  };
  moderation: {
    ban(caller: Caller, roomId: string, input: BanInput): Promise<RoomBan>;
    unban(caller: Caller, roomId: string, userId: string): Promise<void>;
    listBans(caller: Caller, roomId: string, page: Page): Promise<PageOf<RoomBan>>;
    mute(caller: Caller, roomId: string, input: MuteInput): Promise<RoomMute>;
    unmute(caller: Caller, roomId: string, userId: string): Promise<void>;
    purge(caller: Caller, roomId: string, input: PurgeInput): Promise<PurgeResult>;
    /** Typing follows the send rules: muted → AUTHORIZATION_ERROR, archived → CONFLICT, not a member → NOT_FOUND. */
    assertMayType(caller: Caller, roomId: string): Promise<void>;
    banUser(caller: Caller, userId: string, input: UserBanInput): Promise<UserBan>;
    unbanUser(caller: Caller, userId: string): Promise<void>;
    /** Whether a tenant-wide ban is in force on the user now (for session checks elsewhere). */
    isUserBanned(tenantId: string, userId: string): Promise<boolean>;
  };
  health: { check(): Promise<Health> };
  webhooks: WebhooksApi;
  webhookDeliveries: WebhookDeliveriesApi;
  userStatus: UserStatusApi;
}

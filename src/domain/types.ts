/** The domain's public API (see /work/plan.md § Domain API): what HTTP handlers and the WS node call. */
import type { Knex } from 'knex';
import type { AdminStats, AuditEntry, Conversation, ConversationQuery } from './admin-types.ts';
import type { EventSink } from './events.ts';
import type { Admin } from './tenant-admin.ts';
import type { PasswordHasher } from './passwords.ts';
import type { AttemptLimiterFactory } from './attempts.ts';
import type { Mailer } from './mailer.ts';
import type { AuthSession, GuestSession, RoomInvite, RoomInviteCreated, RoomSession } from './wire.ts';
import type { PublishableKey, PublishableKeyCredentials, TenantSettingsPatch } from './wire.ts';
import type {
  BanInput, MuteInput, PurgeInput, PurgeResult, RoomBan, RoomMemberDetail, RoomMute, UserBan, UserBanInput,
} from './moderation-types.ts';
import type { Ticket, TicketInput, TicketListQuery, TicketPatchInput } from './ticket-types.ts';
import type { WebhookDeliveriesApi } from './webhook-deliveries.ts';
import type { WebhooksApi } from './webhooks.ts';
import type { UserStatusApi } from './user-status.ts';
import type { NotificationsApi, OnlineCheck } from './notifications.ts';
import type {
  Member, Message, MemberRole, Permissions, ReadCursor, Role, RoomDetail, Room, RoomType, Tenant, TenantSettings, User, UserToken,
} from './shapes.ts';

/**
 * What the domain reads of a calling user. A WebSocket session keeps only this for its life (a
 * node holds tens of thousands of sessions; the whole record with its timestamps and names was
 * ~200 B more each), so nothing may read other fields of a caller's user.
 */
export type CallerUser = Pick<User, 'id' | 'role' | 'permissions'>;

export type Caller =
  | { kind: 'tenant'; tenantId: string } // X-API-Key alone
  // key + X-User-Id, or Bearer token; `roomId`: a token scoped to that one room (emailed code)
  | { kind: 'user'; tenantId: string; user: CallerUser; via: 'key' | 'token'; roomId?: string };
export type UserCaller = Extract<Caller, { kind: 'user' }>;

export type { Admin } from './tenant-admin.ts';
/** Who is calling, as far as throttling cares (the socket's address; proxies are not trusted). */
export interface ClientInfo { ip: string }
export type Page = { limit?: number; cursor?: string };
export type PageOf<T> = { items: T[]; next_cursor: string | null };

/** The tenant as authentication sees it (never carries the key hash or JWT secret). */
export type TenantRecord = Tenant;

/** The subset of Config the domain reads; the full Config satisfies it. */
/** How a WebSocket connection sends (REST passes none). */
/** One send of a run: its room and input, or a send its caller already refused (answered with that error in its place). */
export type RunItem = { room_id: string; input: MessageInput } | { refused: unknown };

export interface RunOptions {
  /** Settles once the connection's previous run is answered: this run's answers come after it. */
  after?: Promise<unknown>;
  /** Runs with the same token that wait for a batch at the same time share it, in submit order (store/group-commit.ts). */
  together?: object;
  /** Each item's answer, in item order: the stored message (or the original, for a repeat), or its error. */
  answer(index: number, result: { message: Message; created: boolean } | { err: unknown }): void;
}

export interface DomainConfig {
  jwtIssuer: string;
  rateLimitPerSecond: number;
  rateLimitBurst: number;
  /** Credential-guessing limits (config.ts documents each); defaults apply when absent. */
  loginFailuresPerUser?: number;
  authFailuresPerIp?: number;
  authFailureWindowSeconds?: number;
  signupsPerIpPerHour?: number;
  argon2MemoryKib?: number;
  argon2TimeCost?: number;
  argon2Parallelism?: number;
  mailFrom?: string;
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
  /** Who has an open WebSocket connection (the presence registry); used for `notification.created` webhooks. */
  online?: OnlineCheck;
  /** Password hashing (default argon2id at the configured cost); tests count its calls. */
  hasher?: PasswordHasher;
  /** Failed-attempt counters (default: in process memory). */
  attempts?: AttemptLimiterFactory;
  /** Sends emailed room codes (default: writes them to the log with a warning). */
  mailer?: Mailer;
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
    create(input: { name: string; settings?: TenantSettingsPatch }): Promise<{ tenant: Tenant; api_key: string }>;
    list(page: Page): Promise<PageOf<Tenant>>;
    /** `admin` defaults to the operator; a tenant caller sees only itself (else NOT_FOUND). */
    get(id: string, admin?: Admin): Promise<Tenant>;
    update(id: string, patch: { name?: string; settings?: TenantSettingsPatch }, admin?: Admin): Promise<Tenant>;
    remove(id: string): Promise<void>;
    rotateKey(id: string): Promise<{ tenant: Tenant; api_key: string }>;
    authenticateKey(apiKey: string): Promise<TenantRecord | null>;
  };
  /** A credential from `ip` was refused: counted; RATE_LIMIT_EXCEEDED once the address is over AUTH_FAILURES_PER_IP. */
  authFailures: { refused(ip: string): Promise<void> };
  publishableKeys: {
    create(admin: Admin, tenantId: string): Promise<PublishableKeyCredentials>;
    list(admin: Admin, tenantId: string): Promise<{ items: PublishableKey[] }>;
    rotate(admin: Admin, tenantId: string, keyId: string): Promise<PublishableKeyCredentials>;
    revoke(admin: Admin, tenantId: string, keyId: string): Promise<void>;
    /** The tenant and key a presented secret belongs to, or null. */
    authenticate(secret: string): Promise<{ tenant: TenantRecord; keyId: string } | null>;
  };
  accounts: {
    register(tenantId: string, input: { username: string; password: string; email?: string | null; display_name?: string | null }, client: ClientInfo): Promise<AuthSession>;
    login(tenantId: string, input: { username: string; password: string }, client: ClientInfo): Promise<AuthSession>;
    refresh(tenantId: string, refreshToken: string, client: ClientInfo): Promise<AuthSession>;
    logout(tenantId: string, refreshToken: string): Promise<void>;
    guest(tenantId: string, input: { display_name?: string | null }, client: ClientInfo): Promise<GuestSession>;
    /** Deletes guests whose time is up (tokens and memberships cascade); returns how many. */
    purgeExpiredGuests(): Promise<number>;
  };
  invites: {
    create(caller: Caller, roomId: string, input: { password?: string; expires_in_seconds?: number; max_uses?: number }): Promise<RoomInviteCreated>;
    list(caller: Caller, roomId: string): Promise<{ items: RoomInvite[] }>;
    revoke(caller: Caller, roomId: string, inviteId: string): Promise<void>;
    join(caller: Caller, code: string, input: { password?: string }, client: ClientInfo): Promise<{ room_id: string; member: Member }>;
  };
  roomCodes: {
    /** Emails a code when the room takes codes; silent otherwise (the caller always answers 202). */
    request(tenantId: string, roomId: string, email: string, client: ClientInfo): Promise<void>;
    exchange(tenantId: string, roomId: string, input: { email: string; code: string }, client: ClientInfo): Promise<RoomSession>;
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
    /** `roomId` is set for a token scoped to one room; `expiresAt` is epoch ms. */
    verify(token: string): Promise<{ tenant: TenantRecord; user: User; tokenId: string; expiresAt: number; roomId?: string }>;
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
    /** roomsOfUser for several users at once (one query). */
    roomsOfUsers(tenantId: string, userIds: readonly string[]): Promise<Map<string, { room_id: string; last_seq: number; delivered_seq: number }[]>>;
  };
  messages: {
    send(caller: Caller, roomId: string, input: MessageInput): Promise<{ message: Message; created: boolean }>;
    /** A WebSocket connection's run of sends, answered in order through opts.answer (domain/messages.ts sendRun). */
    sendRun(caller: Caller, items: RunItem[], opts: RunOptions): Promise<void>;
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
  notifications: NotificationsApi;
}

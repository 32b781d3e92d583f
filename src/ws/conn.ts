/**
 * One WebSocket connection's state, kept as the uWS socket's user data. A connection moves
 * auth → connecting → ready → (draining) → closed; after `closed` nothing may touch the socket
 * (uWS frees it), so every async continuation checks `isOpen(conn)` first.
 */
import type { WebSocket } from 'uWebSockets.js';
import type { CallerUser, TenantRecord, UserCaller } from '../domain/index.ts';
import type { User } from '../domain/wire.ts';
import type { Presented } from './handshake.ts';
import { pooledRandomBytes } from '../random-pool.ts';
import type { ConnTimer } from './conn-timers.ts';
import type { RoomMap } from './room-map.ts';

export { type ConnTimer, clearConnTimer, clearConnTimers, connTimer, connTimerAt } from './conn-timers.ts';

/** A frame held for a connection while one of its rooms replays (seq set for message.created). */
export interface Held {
  seq?: number;
  bytes: Buffer;
}

/** Where one room of one connection stands. */
export interface RoomSync {
  state: 'waiting' | 'replaying' | 'handoff' | 'live';
  /** The caller's delivered cursor (the default resume position). */
  delivered: number;
  /** The room's newest seq when last read, if known. */
  head?: number;
  /** Seq the replay delivered up to (the handoff point). */
  upTo: number;
  replayed: number;
  truncated: { from_seq: number; to_seq: number } | null;
  /** Live events that arrived while this room was not live yet, in arrival order (NOTHING_HELD when none). */
  held: Held[];
  /** Bumped whenever the room re-syncs; a replay of an older generation stops. */
  generation: number;
  ref?: string;
  handoffTimer?: ConnTimer;
}

/** A connection's acks held by the router, and the frames of their rooms' topics queued behind them. */
export interface AckQueue {
  frames: Buffer[];
  /** Topics it carries frames for (router.ts `carriers`). */
  topics: string[];
}

/**
 * A connection's sends that are submitted and not all answered yet. `last`: the last run's answers,
 * which come after every run before it (the next run waits for it); `sends` and `chars`: how many,
 * and their frames' characters with a per-frame overhead (bounded in dispatch.ts).
 */
export interface SendPipeline { last: Promise<void>; sends: number; chars: number }

export type Phase = 'auth' | 'connecting' | 'ready' | 'draining' | 'closed';

/**
 * Memory: a node holds tens of thousands of these, so what most connections never use is
 * allocated on first use (queue, chain, drainWaiters, timers) and every field exists from the
 * start (node.ts onOpen), which keeps them all inside the object (no separate property store).
 */
export interface Conn {
  id: string;
  phase: Phase;
  ws: WebSocket<ConnData>;
  origin?: string;
  /** The client's address (refused credentials count against it). */
  ip?: string;
  /** The widget's host page origin (`?embed_origin=`), held to the same allow-list as `origin`. */
  embedOrigin?: string;
  tenant?: TenantRecord;
  /** What the session keeps of its user (the same object as `caller.user`). */
  user?: CallerUser;
  caller?: UserCaller;
  /** The credential that opened the session. */
  cred?: Credential;
  /** Its rooms (room-map.ts: one inline, a Map from two on). */
  rooms: RoomMap<RoomSync>;
  /** Frames that arrived before the connection was ready, in order (allocated by the first one). */
  queue: string[] | undefined;
  /** Frames are handled one after another, so sends keep the client's order (set while frames are in flight). */
  chain: Promise<void> | undefined;
  /**
   * Frames that arrived while the chain was busy, not yet taken by it: one step of the chain takes
   * them all, so consecutive sends among them can be pipelined (dispatch.ts).
   */
  backlog: string[] | undefined;
  /** Its sends submitted and not all answered yet (dispatch.ts), while there are any. */
  pipeline: SendPipeline | undefined;
  /** Sync starts on the first `resume` or other frame, or after resume_wait_ms. */
  syncStarted: boolean;
  /** Its pending timers (conn-timers.ts), a linked list. */
  timers: ConnTimer | undefined;
  /** Counted in presence (undone on close). */
  counted?: boolean;
  /** Paced senders waiting for the client to read (router.sendPaced), allocated by the first one. */
  drainWaiters: (() => void)[] | undefined;
  /** Acks held until the sender's own message.created joins them in one write (router.sendAck), allocated on first use. */
  acks: AckQueue | undefined;
  /** Frames being handled right now (graceful shutdown waits for them). */
  inFlight: number;
  /** Characters of the frames counted in inFlight (bounded by WS_MAX_PENDING_BYTES). */
  pendingChars: number;
  /** The upgrade's Sec-WebSocket-Accept when tracing. */
  key: string;
  /** `connected` went out (for traces). */
  connectedSent?: boolean;
}

/** What uWS stores per socket: the connection plus what the upgrade request presented. */
export interface ConnData {
  conn?: Conn;
  /** Dropped once `open` has handed it to the authentication (a Bearer token is a few hundred bytes per socket). */
  presented?: Presented;
  /** The upgrade's Sec-WebSocket-Accept when tracing (names the socket in traces, see trace.ts). */
  key: string;
}

/** What the credentials of an upgrade request amount to (handshake.ts resolveCredentials). */
export type UpgradeResult =
  | { kind: 'authenticated'; tenant: TenantRecord; user: User; via: UserCaller['via']; cred?: Credential }
  | { kind: 'anonymous' }
  | { kind: 'refused'; reason: string };

/** What opened a session, so it can end when that credential does (credentials.revoked on the bus). */
export interface Credential {
  /** The user token's jti (Bearer, auth frame, or the token a ticket was issued for). */
  tokenId?: string;
  /** When that token expires (epoch ms): the session ends then. */
  expiresAt?: number;
  /** The token is scoped to this one room. */
  roomId?: string;
  /** Opened with the tenant's secret key (X-API-Key + X-User-Id): ends when the key is rotated. */
  apiKey?: boolean;
}

const idBytes = Buffer.from('c_0123456789ab', 'latin1');

/**
 * `c_` and 12 base64url characters (72 random bits, from the shared pool: one getrandom per ~450 ids).
 * Built in one buffer: a `c_${…}` template would keep a two-part string (and both parts) per connection.
 */
export function newConnectionId(): string {
  idBytes.write(pooledRandomBytes(9).toString('base64url'), 2, 'latin1');
  return idBytes.toString('latin1');
}

export const isOpen = (conn: Conn) => conn.phase !== 'closed';

/** The frames queued before the connection was ready, in order; the queue starts empty again. */
export function takeQueue(conn: Conn): string[] {
  const queued = conn.queue ?? [];
  conn.queue = undefined;
  return queued;
}

/**
 * Whether the session's user may receive messages. One that may not (`can_receive_message`
 * false) follows its rooms without joining their topics: no replay, no live room frames.
 */
export const canRead = (conn: Conn) => conn.user?.permissions.can_receive_message !== false;

/** What a room holds while nothing is held (shared and frozen: router.hold swaps in an array of its own). */
export const NOTHING_HELD: Held[] = Object.freeze([]) as unknown as Held[];

/** Every field from the start, so later assignments (sync.ts, router.ts) stay inside the object. */
export function newRoomSync(delivered: number, head?: number): RoomSync {
  return { state: 'waiting', delivered, head, upTo: 0, replayed: 0, truncated: null, held: NOTHING_HELD, generation: 0, ref: undefined, handoffTimer: undefined };
}

/**
 * A room's uWS topic, `r:<room>:t:<tenant>`, and the key of the router's per-room maps. The same
 * string object each time for a room: a topic built per call is a new two-part string that every
 * Map lookup flattens, hashes and compares character by character with the key it finds (a profile
 * of 500 × 10 saturated put that at about 1 µs per message, with three lookups per send). The room
 * comes first, so two topics of one tenant that share a bucket of a Map are told apart within a
 * few characters, not after the tenant's 40. Kept per room id (ids are random and a string's hash
 * is computed once), checked against the tenant, and forgotten all at once when there are more
 * than TOPICS_KEPT.
 */
const topics = new Map<string, { tenantId: string; roomId: string; topic: string }>();
const TOPICS_KEPT = 50_000;
export function roomTopic(tenantId: string, roomId: string): string {
  const known = topics.get(roomId);
  if (known !== undefined && known.tenantId === tenantId) return known.topic;
  if (topics.size >= TOPICS_KEPT) topics.clear();
  const topic = `r:${roomId}:t:${tenantId}`;
  topics.set(roomId, { tenantId, roomId, topic });
  return topic;
}

/**
 * The one string object this node uses for a room id it has a topic for (else the id as given).
 * A room id parsed from a frame or read from the database is a new string each time, and each Map
 * lookup that finds it compares all 36 characters with the key; taken once where an id comes in (a
 * session's rooms, a message.send), it makes every later lookup an identity check.
 */
export function roomKey(roomId: string): string {
  return topics.get(roomId)?.roomId ?? roomId;
}

/** Wire types of the realtime protocol, from generated/ (spec/asyncapi.yaml); nothing re-declared here. */
export type {
  ClientFrame,
  ConnectedFrame,
  ErrorFrame,
  Message,
  MessageAckFrame,
  MessageSendFrame,
  RoomPosition,
  ServerFrame,
} from '../../generated/frames.d.ts';
import type { ServerFrame } from '../../generated/frames.d.ts';

/** A server frame by its `type`, e.g. `FrameOf<'message.created'>`. */
export type FrameOf<T extends ServerFrame['type']> = Extract<ServerFrame, { type: T }>;

/** How a connection authenticates (asyncapi.yaml § Connecting). */
export type RealtimeAuth =
  /** A user token, sent in the `auth` frame (browsers cannot set headers on a WebSocket). */
  | { token: string | (() => string | Promise<string>) }
  /** A one-time ticket (`POST /v1/realtime/tickets`), asked for again on every (re)connect. */
  | { ticket: () => string | Promise<string> };

/** The minimal WebSocket the client needs: the browser's, or `ws` in Node. */
export interface SocketLike {
  readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
}
export type SocketFactory = (url: string) => SocketLike;

export interface RealtimeOptions {
  /** `ws://host:port/v1/ws`. */
  url: string;
  auth: RealtimeAuth;
  /** Extra query parameters for the upgrade (e.g. `embed_origin` for the widget). */
  query?: Record<string, string>;
  /** Default: `new WebSocket(url)` (the global one). */
  socket?: SocketFactory;
  /** How long a `message.send` waits for its ack before it is sent again (same client_msg_id). Default 5000. */
  ackTimeoutMs?: number;
  /** Sends of one message before it fails. Default 5. */
  maxAttempts?: number;
  /** Reconnect delay: min(maxBackoffMs, minBackoffMs · 2^attempt) with jitter. Defaults 250 / 5000. */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** Ping interval; a missing pong within it drops the socket and reconnects. Default 20000; 0: off. */
  pingIntervalMs?: number;
}

/** Close codes after which reconnecting with the same credentials cannot help. */
export const FATAL_CLOSE_CODES = new Set([4001, 4003, 4009]);

export type ConnectionState = 'idle' | 'connecting' | 'open' | 'reconnecting' | 'closed';

/**
 * A small typed client for chatapi's WebSocket (spec/asyncapi.yaml), with no framework and no
 * dependency: connect with a token (in the `auth` frame) or a fresh one-time ticket per connect;
 * keep the newest `seq` seen per room and resume from it after every reconnect, so each message is
 * delivered once and in order; send with a `client_msg_id` and resend the same frame until it is
 * acknowledged (the server never stores a repeat twice). Works in browsers and in Node (pass `ws`).
 *
 *   const rt = new RealtimeClient({ url, auth: { token } });
 *   rt.on('message.created', (f) => show(f.message));
 *   rt.connect();
 *   const stored = await rt.send(roomId, 'hi');
 */
import {
  type ClientFrame, type ConnectionState, FATAL_CLOSE_CODES, type FrameOf, type Message, type RealtimeOptions,
  type RoomPosition, type ServerFrame, type SocketLike,
} from './types.ts';

export * from './types.ts';
export { RoomPresence } from './presence.ts';

type Listener<T> = (value: T) => void;
interface Events { state: ConnectionState; close: { code: number; reason: string }; frame: ServerFrame }
type EventName = ServerFrame['type'] | keyof Events;
type Payload<K extends EventName> = K extends keyof Events ? Events[K] : K extends ServerFrame['type'] ? FrameOf<K> : never;

interface PendingSend {
  frame: Extract<ClientFrame, { type: 'message.send' }>;
  attempts: number;
  timer?: ReturnType<typeof setTimeout>;
  resolve(message: Message): void;
  reject(error: Error): void;
}

/** A send that the server refused (an `error` frame naming it) or that never got an ack. */
export class SendError extends Error {
  constructor(readonly code: string, message: string, readonly clientMsgId: string) {
    super(message);
  }
}

const RETRYABLE = new Set(['RATE_LIMIT_EXCEEDED', 'SERVICE_UNAVAILABLE', 'INTERNAL_ERROR']);
const OPEN = 1;

export class RealtimeClient {
  state: ConnectionState = 'idle';
  /** The `connected` frame of the current connection. */
  session?: FrameOf<'connected'>;
  private socket?: SocketLike;
  private readonly positions = new Map<string, number>();
  private readonly pending = new Map<string, PendingSend>();
  private readonly listeners = new Map<string, Set<Listener<never>>>();
  private attempt = 0;
  private reconnectTimer?: ReturnType<typeof setTimeout>;
  private pingTimer?: ReturnType<typeof setInterval>;
  private awaitingPong = false;
  private readonly opts: Required<Omit<RealtimeOptions, 'query' | 'socket'>> & Pick<RealtimeOptions, 'query' | 'socket'>;

  constructor(options: RealtimeOptions) {
    this.opts = { ackTimeoutMs: 5000, maxAttempts: 5, minBackoffMs: 250, maxBackoffMs: 5000, pingIntervalMs: 20000, ...options };
    const g = globalThis as { addEventListener?: (type: string, fn: () => void) => void };
    // Browsers say when the network goes away; drop the socket then instead of waiting for a timeout.
    g.addEventListener?.('offline', () => this.socket?.close(1000, 'offline'));
    g.addEventListener?.('online', () => this.state === 'reconnecting' && this.reconnectNow());
  }

  on<K extends EventName>(name: K, fn: Listener<Payload<K>>): () => void {
    let set = this.listeners.get(name);
    if (!set) this.listeners.set(name, (set = new Set()));
    set.add(fn as Listener<never>);
    return () => set.delete(fn as Listener<never>);
  }

  /** The newest seq this client holds for a room (what a resume starts after). */
  position(roomId: string): number | undefined {
    return this.positions.get(roomId);
  }

  /** Record that messages up to `seq` are held (e.g. loaded over REST), so they are not replayed. */
  setPosition(roomId: string, seq: number): void {
    if (seq > (this.positions.get(roomId) ?? -1)) this.positions.set(roomId, seq);
  }

  connect(): void {
    if (this.state === 'connecting' || this.state === 'open') return;
    this.setState(this.attempt === 0 ? 'connecting' : 'reconnecting');
    void this.open().catch((err: unknown) => {
      this.emit('close', { code: 0, reason: err instanceof Error ? err.message : String(err) });
      this.scheduleReconnect();
    });
  }

  close(): void {
    clearTimeout(this.reconnectTimer);
    this.setState('closed');
    this.socket?.close(1000, 'client closed');
    this.failPending('CLOSED', 'The client was closed');
  }

  /** Sends a message; resolves with the stored message once acknowledged. Safe to call again with the same clientMsgId. */
  send(roomId: string, content: string, opts: { clientMsgId?: string; meta?: Record<string, unknown> } = {}): Promise<Message> {
    const clientMsgId = opts.clientMsgId ?? randomId();
    const existing = this.pending.get(clientMsgId);
    if (existing) return new Promise((resolve, reject) => this.chain(existing, resolve, reject));
    const frame = { type: 'message.send' as const, room_id: roomId, content, client_msg_id: clientMsgId, ...(opts.meta ? { meta: opts.meta } : {}) };
    return new Promise((resolve, reject) => {
      const p: PendingSend = { frame, attempts: 0, resolve, reject };
      this.pending.set(clientMsgId, p);
      this.transmit(p);
    });
  }

  /** Tells the server the newest seq held per room (see setPosition); it replays the rest, then `sync.complete`. */
  resume(): boolean {
    return this.sendFrame({ type: 'resume', rooms: this.resumePositions() });
  }

  typing(roomId: string, on: boolean): void {
    this.sendFrame({ type: on ? 'typing.start' : 'typing.stop', room_id: roomId });
  }

  markRead(roomId: string, seq: number): void {
    this.sendFrame({ type: 'read', room_id: roomId, seq });
  }

  /** Sends any client frame now; false when the socket is not open. */
  sendFrame(frame: ClientFrame): boolean {
    if (this.state !== 'open' || this.socket?.readyState !== OPEN) return false;
    this.socket.send(JSON.stringify(frame));
    return true;
  }

  private async open(): Promise<void> {
    const { auth, query = {} } = this.opts;
    const params = new URLSearchParams(query);
    if ('ticket' in auth) params.set('ticket', await auth.ticket());
    const token = 'token' in auth ? (typeof auth.token === 'function' ? await auth.token() : auth.token) : undefined;
    const qs = params.toString();
    const url = qs ? `${this.opts.url}${this.opts.url.includes('?') ? '&' : '?'}${qs}` : this.opts.url;
    const socket = this.opts.socket ? this.opts.socket(url) : (new WebSocket(url) as unknown as SocketLike);
    this.socket = socket;
    socket.onopen = () => {
      const resume = this.resumePositions();
      if (token) socket.send(JSON.stringify({ type: 'auth', token, ...(resume.length ? { resume } : {}) }));
      else socket.send(JSON.stringify({ type: 'resume', rooms: resume }));
    };
    socket.onmessage = (ev) => this.onFrame(JSON.parse(String(ev.data)) as ServerFrame);
    socket.onclose = (ev) => this.onClose(socket, ev);
    socket.onerror = () => undefined; // a close event follows
  }

  private resumePositions(): RoomPosition[] {
    return [...this.positions].map(([room_id, last_seq]) => ({ room_id, last_seq }));
  }

  private onFrame(frame: ServerFrame): void {
    switch (frame.type) {
      case 'connected': return this.onConnected(frame);
      case 'message.created':
        if (frame.message.seq <= (this.positions.get(frame.room_id) ?? 0)) return; // already held: never twice
        this.positions.set(frame.room_id, frame.message.seq);
        break;
      case 'sync.complete': this.setPosition(frame.room_id, frame.seq); break;
      case 'message.ack': this.settle(frame.client_msg_id, (p) => p.resolve(frame.message)); break;
      case 'error': if (frame.client_msg_id) this.onSendError(frame); break;
      case 'pong': this.awaitingPong = false; break;
      case 'server.shutdown': this.attempt = 0; break;
      default: break;
    }
    this.emit('frame', frame);
    this.emit(frame.type, frame as never);
  }

  private onConnected(frame: FrameOf<'connected'>): void {
    this.session = frame;
    this.attempt = 0;
    this.setState('open');
    this.startPing();
    for (const p of this.pending.values()) this.transmit(p);
    this.emit('frame', frame);
    this.emit('connected', frame);
  }

  private onSendError(frame: FrameOf<'error'>): void {
    const p = this.pending.get(frame.client_msg_id!);
    if (!p) return;
    if (RETRYABLE.has(frame.code) && p.attempts < this.opts.maxAttempts) {
      clearTimeout(p.timer);
      p.timer = setTimeout(() => this.transmit(p), frame.retry_after_ms ?? this.opts.minBackoffMs);
      return;
    }
    this.settle(p.frame.client_msg_id, (q) => q.reject(new SendError(frame.code, frame.message, q.frame.client_msg_id)));
  }

  private transmit(p: PendingSend): void {
    clearTimeout(p.timer);
    if (!this.sendFrame(p.frame)) return; // sent again once `connected` arrives
    p.attempts += 1;
    p.timer = setTimeout(() => {
      if (p.attempts >= this.opts.maxAttempts) {
        this.settle(p.frame.client_msg_id, (q) => q.reject(new SendError('TIMEOUT', 'No acknowledgement', q.frame.client_msg_id)));
      } else this.transmit(p);
    }, this.opts.ackTimeoutMs);
  }

  private settle(clientMsgId: string, fn: (p: PendingSend) => void): void {
    const p = this.pending.get(clientMsgId);
    if (!p) return;
    clearTimeout(p.timer);
    this.pending.delete(clientMsgId);
    fn(p);
  }

  private chain(p: PendingSend, resolve: (m: Message) => void, reject: (e: Error) => void): void {
    const [res, rej] = [p.resolve, p.reject];
    p.resolve = (m) => (res(m), resolve(m));
    p.reject = (e) => (rej(e), reject(e));
  }

  private onClose(socket: SocketLike, ev: { code: number; reason: string }): void {
    if (socket !== this.socket) return;
    clearInterval(this.pingTimer);
    this.socket = undefined;
    this.session = undefined;
    this.emit('close', { code: ev.code, reason: ev.reason });
    if (this.state === 'closed') return;
    if (FATAL_CLOSE_CODES.has(ev.code)) {
      this.setState('closed');
      this.failPending(`CLOSED_${ev.code}`, ev.reason || `closed with ${ev.code}`);
      return;
    }
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.state === 'closed') return;
    this.setState('reconnecting');
    const offline = (globalThis as { navigator?: { onLine?: boolean } }).navigator?.onLine === false;
    if (offline) return; // the `online` event reconnects
    const base = Math.min(this.opts.maxBackoffMs, this.opts.minBackoffMs * 2 ** this.attempt++);
    this.reconnectTimer = setTimeout(() => this.reconnectNow(), base / 2 + Math.random() * (base / 2));
  }

  private reconnectNow(): void {
    clearTimeout(this.reconnectTimer);
    if (this.socket || this.state === 'closed') return;
    this.state = 'idle';
    this.attempt = Math.max(this.attempt, 1);
    this.connect();
  }

  private startPing(): void {
    clearInterval(this.pingTimer);
    if (!this.opts.pingIntervalMs) return;
    this.awaitingPong = false;
    this.pingTimer = setInterval(() => {
      if (this.awaitingPong) return void this.socket?.close(4000, 'no pong');
      this.awaitingPong = this.sendFrame({ type: 'ping' });
    }, this.opts.pingIntervalMs);
  }

  private failPending(code: string, message: string): void {
    for (const id of [...this.pending.keys()]) this.settle(id, (p) => p.reject(new SendError(code, message, id)));
  }

  private setState(state: ConnectionState): void {
    if (this.state === state) return;
    this.state = state;
    this.emit('state', state);
  }

  private emit<K extends EventName>(name: K, value: Payload<K>): void {
    for (const fn of this.listeners.get(name) ?? []) (fn as Listener<Payload<K>>)(value);
  }
}

function randomId(): string {
  const c = (globalThis as { crypto?: { randomUUID?: () => string } }).crypto;
  return c?.randomUUID ? c.randomUUID() : `c-${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}

/**
 * A chatapi realtime connection for k6 (frames per spec/asyncapi.yaml): connects with a user
 * token (or a one-time ticket), resumes from given positions, reports when every room is
 * synchronised, and hands every other frame to the scenario.
 */
import { WebSocket } from 'k6/websockets';
import { WS_URL } from './env.ts';

export interface Frame { type: string; [k: string]: any }

export interface ChatSocketOptions {
  token?: string;
  ticket?: string;
  /** room → newest seq already held; the server replays anything newer before `onSynced` */
  resume: Record<string, number>;
  onSynced(): void;
  onFrame(frame: Frame): void;
  onClose?(): void;
  onError?(message: string): void;
}

export class ChatSocket {
  readonly ws: WebSocket;
  private pendingSync = new Set<string>();
  synced = false;

  constructor(private readonly opts: ChatSocketOptions) {
    const url = opts.ticket ? `${WS_URL}/v1/ws?ticket=${encodeURIComponent(opts.ticket)}` : `${WS_URL}/v1/ws`;
    // k6 before 1.4 throws on a null params argument: leave it out when there is nothing to pass.
    this.ws = opts.token ? new WebSocket(url, null, { headers: { Authorization: `Bearer ${opts.token}` } }) : new WebSocket(url);
    for (const room of Object.keys(opts.resume)) this.pendingSync.add(room);
    this.ws.onopen = () => {
      const rooms = Object.keys(opts.resume).map((room_id) => ({ room_id, last_seq: opts.resume[room_id] }));
      this.send({ type: 'resume', rooms });
    };
    this.ws.onmessage = (e) => this.receive(String(e?.data));
    this.ws.onclose = () => opts.onClose?.();
    this.ws.onerror = (e) => opts.onError?.(e?.error ?? 'websocket error');
  }

  send(frame: Frame): void {
    this.ws.send(JSON.stringify(frame));
  }

  close(): void {
    this.ws.close(1000);
  }

  private receive(text: string): void {
    let frame: Frame;
    try { frame = JSON.parse(text) as Frame; } catch { this.opts.onError?.(`unparseable frame: ${text.slice(0, 80)}`); return; }
    if (frame.type === 'sync.complete') {
      this.pendingSync.delete(frame.room_id);
      if (!this.synced && this.pendingSync.size === 0) { this.synced = true; this.opts.onSynced(); }
      return;
    }
    if (frame.type === 'connected' && this.pendingSync.size === 0 && !this.synced) {
      this.synced = true;
      this.opts.onSynced();
    }
    this.opts.onFrame(frame);
  }
}

/**
 * A WebSocket test client (the `ws` package) that checks the AsyncAPI contract from the client's
 * side: every frame it receives must match ServerFrame (generated/validators.cjs, built from
 * spec/asyncapi.yaml and spec/schemas/). A frame that does not match fails every wait with an
 * error that names the frame and what is wrong with it.
 *
 *   const c = await WsClient.connect(url, { headers: { Authorization: `Bearer ${token}` } });
 *   const hello = await c.first('connected');
 *   await c.waitUntil(() => c.all('message.created').length >= 3);
 */
import { createRequire } from 'node:module';
import WebSocket from 'ws';
import type { ServerFrame } from '../../generated/frames.d.ts';
import { trace, tracing } from '../../src/ws/trace.ts';

type Validators = typeof import('../../generated/validators.cjs');
const { ServerFrame: validateServerFrame } = createRequire(import.meta.url)('../../generated/validators.cjs') as Validators;

export type { ServerFrame };
export type FrameOf<T extends ServerFrame['type']> = Extract<ServerFrame, { type: T }>;

export class FrameContractViolation extends Error {
  override name = 'FrameContractViolation';
}

export interface ConnectOptions {
  headers?: Record<string, string>;
  /** Names the client in failure messages. */
  label?: string;
  /** Milliseconds to wait for the upgrade (default 5000). */
  timeoutMs?: number;
}

interface Waiter {
  /** True once satisfied (it has resolved its promise). */
  probe: () => boolean;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

export class WsClient {
  /** Every frame received so far, in order (all valid). */
  readonly frames: ServerFrame[] = [];
  /** When each frame arrived (performance.now()), parallel to `frames`. */
  readonly arrivals: number[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  private violation?: FrameContractViolation;
  private lastError?: Error;
  private readonly waiters = new Set<Waiter>();

  private constructor(readonly socket: WebSocket, readonly label = 'client') {
    socket.on('message', (data, isBinary) => this.receive(data as Buffer, isBinary));
    socket.on('error', (err) => (this.lastError = err)); // e.g. a protocol error; shown with the close
    this.closed = new Promise((resolve) => socket.once('close', (code, reason) => {
      resolve({ code, reason: reason.toString() });
      const why = this.lastError ? ` after error: ${this.lastError.message}` : '';
      for (const w of this.waiters) w.reject(new Error(`${this.label}: socket closed (${code} ${reason.toString()})${why} while waiting for a frame`));
    }));
  }

  /** Opens a socket; rejects with `{ status }` when the server refuses the upgrade over HTTP. */
  static connect(url: string, opts: ConnectOptions = {}): Promise<WsClient> {
    const socket = new WebSocket(url, { headers: opts.headers, handshakeTimeout: opts.timeoutMs ?? 5000 });
    const client = new WsClient(socket, opts.label);
    if (tracing) traceClient(socket, client.label);
    return new Promise((resolve, reject) => {
      socket.once('open', () => resolve(client));
      socket.once('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('end', () => reject(Object.assign(new Error(`upgrade refused: HTTP ${res.statusCode} ${body}`), { status: res.statusCode, body })));
      });
      socket.once('error', reject);
    });
  }

  send(frame: object): void {
    this.socket.send(JSON.stringify(frame));
  }

  sendRaw(data: string | Buffer, binary = false): void {
    this.socket.send(data, { binary });
  }

  /** The first frame received (so far or later) that satisfies `pred`; frames are never consumed. */
  waitFor<T extends ServerFrame = ServerFrame>(pred: (f: ServerFrame) => boolean, timeoutMs = 5000): Promise<T> {
    return this.waitUntil(() => this.frames.find(pred) as T | undefined, timeoutMs);
  }

  /** Resolves with `probe()`'s first truthy result, re-checked on every frame received. */
  waitUntil<T>(probe: () => T | undefined | false, timeoutMs = 5000): Promise<T> {
    if (this.violation) return Promise.reject(this.violation);
    const now = probe();
    if (now) return Promise.resolve(now);
    return new Promise<T>((resolve, reject) => {
      const waiter: Waiter = {
        probe: () => {
          const value = probe();
          if (value) resolve(value);
          return Boolean(value);
        },
        reject,
        timer: setTimeout(() => {
          this.waiters.delete(waiter);
          const recent = this.frames.slice(-5).map((f) => JSON.stringify(f).slice(0, 200)).join('\n  ');
          reject(new Error(`${this.label}: condition not met within ${timeoutMs} ms (${this.frames.length} frames); last frames:\n  ${recent}`));
        }, timeoutMs),
      };
      this.waiters.add(waiter);
    });
  }

  /** The first frame of a type (optionally also matching `pred`). */
  first<T extends ServerFrame['type']>(type: T, pred: (f: FrameOf<T>) => boolean = () => true, timeoutMs?: number): Promise<FrameOf<T>> {
    return this.waitFor<FrameOf<T>>((f) => f.type === type && pred(f as FrameOf<T>), timeoutMs);
  }

  /** When a frame (one of `frames`) arrived, in performance.now() milliseconds. */
  arrivalOf(frame: ServerFrame): number {
    return this.arrivals[this.frames.indexOf(frame)]!;
  }

  /** All frames received so far of one type. */
  all<T extends ServerFrame['type']>(type: T): FrameOf<T>[] {
    return this.frames.filter((f): f is FrameOf<T> => f.type === type);
  }

  /** Stops reading from the socket (a slow consumer); the server's buffer fills up. */
  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }

  async close(): Promise<void> {
    if (this.socket.readyState === WebSocket.CLOSED) return;
    this.socket.close(1000);
    await this.closed;
  }

  /** Throws if any frame so far broke the contract (call at the end of a test for certainty). */
  assertValid(): void {
    if (this.violation) throw this.violation;
  }

  private receive(data: Buffer, isBinary: boolean): void {
    let frame: unknown;
    try {
      if (isBinary) throw new Error('binary frame');
      frame = JSON.parse(data.toString('utf8'));
    } catch (err) {
      return this.fail(`received a frame that is not JSON text (${(err as Error).message}): ${data.toString('utf8').slice(0, 200)}`);
    }
    if (!validateServerFrame(frame)) {
      const problems = (validateServerFrame.errors ?? []).slice(0, 8).map((e) => `${e.instancePath || '(frame)'} ${e.message}`).join('; ');
      return this.fail(`frame does not match ServerFrame in spec/asyncapi.yaml: ${problems}\n  frame: ${JSON.stringify(frame).slice(0, 500)}`);
    }
    this.frames.push(frame as ServerFrame);
    this.arrivals.push(performance.now());
    for (const w of [...this.waiters]) {
      if (w.probe()) {
        this.waiters.delete(w);
        clearTimeout(w.timer);
      }
    }
  }

  private fail(message: string): void {
    this.violation = new FrameContractViolation(message);
    for (const w of this.waiters) {
      clearTimeout(w.timer);
      w.reject(this.violation);
    }
    this.waiters.clear();
  }
}

/** CHATAPI_WS_TRACE (src/ws/trace.ts): the client's side of each socket, matched to the server's by Sec-WebSocket-Accept. */
function traceClient(socket: WebSocket, label: string): void {
  let key = '';
  let tcp: { localPort?: number; remotePort?: number } = {};
  socket.once('upgrade', (res) => {
    key = String(res.headers['sec-websocket-accept'] ?? '');
    tcp = { localPort: res.socket.localPort, remotePort: res.socket.remotePort };
    trace('client', 'open', { key, label, ...tcp });
    res.socket.once('end', () => trace('client', 'fin-received', { key, label, ...tcp }));
    res.socket.once('error', (err: Error) => trace('client', 'socket-error', { key, label, ...tcp, error: err.message }));
  });
  socket.once('close', (code, reason) => {
    const internals = socket as unknown as { _closeFrameReceived?: boolean; _closeFrameSent?: boolean };
    trace('client', 'close', {
      key, label, ...tcp, code, reason: reason.toString(),
      close_frame_received: internals._closeFrameReceived, close_frame_sent: internals._closeFrameSent,
    });
  });
}

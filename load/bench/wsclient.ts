/**
 * A deliberately small WebSocket client on raw TCP sockets, so one process can hold thousands
 * of connections and count hundreds of thousands of frames per second: no per-frame objects,
 * no UTF-8 decoding unless the caller asks, no events besides the socket's own.
 * It speaks just what the benchmark needs (RFC 6455): the upgrade, unfragmented text/binary
 * frames from the server, ping → pong, close. Client frames are masked as the RFC requires,
 * with an all-zero masking key (servers must accept any key; zero makes masking free).
 * Loopback only.
 */
import net from 'node:net';
import { randomBytes } from 'node:crypto';

export interface WsHandlers {
  /** a text or binary frame; payload is buf[start, end) — copy it if you keep it */
  onMessage(conn: WsConn, buf: Buffer, start: number, end: number): void;
  onClose?(conn: WsConn, code: number): void;
}

export class WsConn {
  /** frames received */
  frames = 0;
  closed = false;
  closeCode = 0;
  /** free slot for the harness */
  tag: any = undefined;
  private pending: Buffer | null = null;

  constructor(readonly id: number, readonly socket: net.Socket, private readonly handlers: WsHandlers) {}

  sendText(text: string): boolean {
    const payload = Buffer.from(text);
    return this.socket.write(frame(0x1, payload));
  }

  close(code = 1000): void {
    if (this.closed) return;
    const body = Buffer.alloc(2);
    body.writeUInt16BE(code);
    this.socket.end(frame(0x8, body));
  }

  /** @internal */
  feed(chunk: Buffer): void {
    let buf = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    let off = 0;
    const n = buf.length;
    while (n - off >= 2) {
      const b0 = buf[off];
      let len = buf[off + 1] & 0x7f;
      let hdr = 2;
      if (len === 126) {
        if (n - off < 4) break;
        len = buf.readUInt16BE(off + 2);
        hdr = 4;
      } else if (len === 127) {
        if (n - off < 10) break;
        len = buf.readUInt32BE(off + 6);
        hdr = 10;
      }
      if (buf[off + 1] & 0x80) hdr += 4; // servers do not mask; tolerate it anyway
      if (n - off < hdr + len) break;
      const start = off + hdr;
      off = start + len;
      const opcode = b0 & 0x0f;
      if (opcode === 0x1 || opcode === 0x2) {
        this.frames++;
        this.handlers.onMessage(this, buf, start, off);
      } else if (opcode === 0x9) {
        this.socket.write(frame(0xa, Buffer.from(buf.subarray(start, off))));
      } else if (opcode === 0x8) {
        this.closeCode = len >= 2 ? buf.readUInt16BE(start) : 1005;
        if (!this.closed) this.socket.end(frame(0x8, Buffer.from(buf.subarray(start, off))));
        this.closed = true;
      }
    }
    this.pending = off < n ? buf.subarray(off) : null;
    buf = null as unknown as Buffer;
  }
}

function frame(opcode: number, payload: Buffer): Buffer {
  const len = payload.length;
  const hdr = len < 126 ? 6 : len < 65536 ? 8 : 14;
  const out = Buffer.allocUnsafe(hdr + len);
  out[0] = 0x80 | opcode;
  if (len < 126) out[1] = 0x80 | len;
  else if (len < 65536) { out[1] = 0x80 | 126; out.writeUInt16BE(len, 2); }
  else { out[1] = 0x80 | 127; out.writeUInt32BE(0, 2); out.writeUInt32BE(len, 6); }
  out.writeUInt32BE(0, hdr - 4); // zero masking key: payload bytes go out unchanged
  payload.copy(out, hdr);
  return out;
}

export interface ConnectOptions {
  port: number;
  path: string;
  headers?: Record<string, string>;
  timeoutMs?: number;
  /** a loopback source address (127.x.y.z): spreads many connections over more 4-tuples */
  localAddress?: string;
  /** set as the connection's tag before any frame arrives */
  tag?: unknown;
}

let nextId = 0;

/** Opens one connection; resolves after the 101 response (frames that follow are delivered). */
export function connectWs(opts: ConnectOptions, handlers: WsHandlers): Promise<WsConn> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port: opts.port, noDelay: true, localAddress: opts.localAddress });
    const conn = new WsConn(nextId++, socket, handlers);
    conn.tag = opts.tag;
    let head: Buffer | null = Buffer.alloc(0);
    const timer = setTimeout(() => fail(new Error(`upgrade timed out after ${opts.timeoutMs ?? 10_000} ms`)), opts.timeoutMs ?? 10_000);
    const fail = (err: Error) => { clearTimeout(timer); socket.destroy(); reject(err); };
    socket.once('error', fail);
    socket.on('connect', () => {
      const extra = Object.entries(opts.headers ?? {}).map(([k, v]) => `${k}: ${v}\r\n`).join('');
      socket.write(`GET ${opts.path} HTTP/1.1\r\nHost: 127.0.0.1:${opts.port}\r\nUpgrade: websocket\r\n` +
        `Connection: Upgrade\r\nSec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\n` +
        `Sec-WebSocket-Version: 13\r\n${extra}\r\n`);
    });
    socket.on('data', (chunk: Buffer) => {
      if (head === null) return conn.feed(chunk);
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      const status = head.subarray(0, head.indexOf('\r\n')).toString('latin1');
      if (!/^HTTP\/1\.1 101/.test(status)) return fail(new Error(`upgrade refused: ${status} ${head.subarray(end + 4, end + 300)}`));
      const rest = head.subarray(end + 4);
      head = null;
      clearTimeout(timer);
      socket.removeListener('error', fail);
      socket.on('error', () => { /* reported through close */ });
      socket.on('close', () => { conn.closed = true; handlers.onClose?.(conn, conn.closeCode || 1006); });
      resolve(conn);
      if (rest.length) conn.feed(rest);
    });
  });
}

/** Opens `count` connections with at most `concurrency` handshakes in flight. */
export async function connectMany(count: number, concurrency: number, make: (i: number) => Promise<WsConn>): Promise<WsConn[]> {
  const out = new Array<WsConn>(count);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, async () => {
    while (next < count) {
      const i = next++;
      out[i] = await make(i);
    }
  }));
  return out;
}

/**
 * Closed-loop HTTP/1.1 load on raw keep-alive sockets: `connections` sockets, each with one
 * request in flight, for a fixed time. Parsing is minimal (status line, Content-Length, skip
 * the body) so the client costs a few µs per response and the server stays the bottleneck.
 * Loopback only; bounded by duration; every response status is counted.
 */
import net from 'node:net';
import { procStat } from '../lib/processes.ts';

export interface HttpLoadOptions {
  port: number;
  connections: number;
  durationMs: number;
  warmupMs?: number;
  /** builds request i (method, path, headers, body); called once per request */
  request(i: number): string | Buffer;
  /** called when the measured window opens / closes (e.g. to read the server's CPU time) */
  onMeasureStart?(): void;
  onMeasureEnd?(): void;
}

export interface HttpLoadResult {
  requestsPerSec: number;
  completed: number;
  statuses: Record<string, number>;
  errors: number;
  p50: number;
  p99: number;
}

/** Serializes one request; headers must not include Host/Content-Length. */
export function rawRequest(method: string, path: string, headers: Record<string, string>, body?: unknown): string {
  const payload = body === undefined ? '' : JSON.stringify(body);
  const lines = [`${method} ${path} HTTP/1.1`, 'Host: 127.0.0.1', 'Connection: keep-alive'];
  for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
  if (payload) lines.push('Content-Type: application/json', `Content-Length: ${Buffer.byteLength(payload)}`);
  return `${lines.join('\r\n')}\r\n\r\n${payload}`;
}

const CRLF2 = Buffer.from('\r\n\r\n');
const CL = /\r\ncontent-length:\s*(\d+)/i;

export async function httpLoad(opts: HttpLoadOptions): Promise<HttpLoadResult> {
  const statuses: Record<string, number> = {};
  let completed = 0;
  let errors = 0;
  let counting = false;
  let stopping = false;
  let seq = 0;
  const latencies: number[] = [];

  const worker = () => new Promise<void>((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port: opts.port, noDelay: true });
    let buf: Buffer = Buffer.alloc(0);
    let sentAt = 0;
    const next = () => {
      if (stopping) { socket.destroy(); return resolve(); }
      sentAt = performance.now();
      socket.write(opts.request(seq++));
    };
    socket.on('connect', next);
    socket.on('error', () => { errors++; resolve(); });
    socket.on('close', () => resolve());
    socket.on('data', (chunk: Buffer) => {
      buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
      for (;;) {
        const end = buf.indexOf(CRLF2);
        if (end < 0) return;
        const head = buf.toString('latin1', 0, end);
        const len = Number(CL.exec(head)?.[1] ?? 0);
        if (buf.length < end + 4 + len) return;
        const status = head.slice(9, 12);
        buf = buf.subarray(end + 4 + len);
        if (counting) {
          completed++;
          statuses[status] = (statuses[status] ?? 0) + 1;
          if ((completed & 7) === 0) latencies.push(performance.now() - sentAt);
        }
        next();
      }
    });
  });

  const workers = Array.from({ length: opts.connections }, worker);
  await sleep(opts.warmupMs ?? 1000);
  opts.onMeasureStart?.();
  counting = true;
  const started = performance.now();
  await sleep(opts.durationMs);
  counting = false;
  opts.onMeasureEnd?.();
  const elapsed = performance.now() - started;
  stopping = true;
  await Promise.race([Promise.all(workers), sleep(5000)]);
  latencies.sort((a, b) => a - b);
  const pick = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))] ?? NaN;
  return { requestsPerSec: (completed * 1000) / elapsed, completed, statuses, errors, p50: pick(0.5), p99: pick(0.99) };
}

/** A server under test: where to send, whose CPU to read, and the one status it should answer (any 2xx when absent). */
export interface MeasuredServer {
  port: number;
  pid: number;
  ok?: string;
  request(i: number): string | Buffer;
}

export interface ServerMeasurement {
  rps: number;
  /** the server's CPU µs per completed request (/proc/<pid>/stat over the measured window) */
  cpuUs: number;
  p50: number;
  p99: number;
  /** answers other than the expected status, and socket errors */
  bad: number;
  statuses: string;
}

/** One closed-loop measurement of a server: req/s, its CPU per request, latency, wrong answers. */
export async function measureServer(h: MeasuredServer, o: { durationMs: number; warmupMs: number; connections?: number }): Promise<ServerMeasurement> {
  let cpuMs = 0;
  const res = await httpLoad({
    port: h.port, connections: o.connections ?? 32, durationMs: o.durationMs, warmupMs: o.warmupMs, request: h.request,
    onMeasureStart: () => { cpuMs = procStat(h.pid).cpuMs; },
    onMeasureEnd: () => { cpuMs = procStat(h.pid).cpuMs - cpuMs; },
  });
  const ok = Object.entries(res.statuses).filter(([k]) => (h.ok ? k === h.ok : k.startsWith('2'))).reduce((n, [, v]) => n + v, 0);
  return {
    rps: res.requestsPerSec, cpuUs: (cpuMs * 1000) / Math.max(1, res.completed), p50: res.p50, p99: res.p99,
    bad: res.completed - ok + res.errors, statuses: JSON.stringify(res.statuses),
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

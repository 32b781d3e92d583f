/**
 * A small keep-alive HTTP client on node:http for load drivers and benchmarks. Loopback only:
 * load traffic must never leave the machine (design.md § Toolchain facts).
 */
import http from 'node:http';

export interface HttpResult {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** response time, ms (request written → body complete) */
  ms: number;
}

export function assertLoopback(url: string): URL {
  const u = new URL(url);
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname)) {
    throw new Error(`load traffic goes to 127.0.0.1 only; refusing ${u.hostname}`);
  }
  return u;
}

export class HttpClient {
  readonly agent: http.Agent;
  private readonly host: string;
  private readonly port: number;

  constructor(base: string, opts: { maxSockets?: number; timeoutMs?: number } = {}) {
    const u = assertLoopback(base);
    this.host = u.hostname === 'localhost' ? '127.0.0.1' : u.hostname.replace(/[[\]]/g, '');
    this.port = Number(u.port || 80);
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    this.agent = new http.Agent({ keepAlive: true, maxSockets: opts.maxSockets ?? 256, scheduling: 'fifo' });
  }

  private readonly timeoutMs: number;

  request(method: string, path: string, headers: Record<string, string> = {}, body?: unknown): Promise<HttpResult> {
    const payload = body === undefined ? undefined : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
    const hdrs: Record<string, string | number> = { ...headers };
    if (payload) {
      hdrs['content-type'] ??= 'application/json';
      hdrs['content-length'] = payload.length;
    }
    return new Promise((resolve, reject) => {
      const started = performance.now();
      const req = http.request({ host: this.host, port: this.port, method, path, headers: hdrs, agent: this.agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString('utf8'),
          ms: performance.now() - started,
        }));
        res.on('error', reject);
      });
      req.setTimeout(this.timeoutMs, () => req.destroy(new Error(`timeout after ${this.timeoutMs} ms`)));
      req.on('error', reject);
      req.end(payload);
    });
  }

  /** Calls the API and unwraps the envelope; throws with the server's error on failure. */
  async call<T = any>(method: string, path: string, headers: Record<string, string> = {}, body?: unknown): Promise<T> {
    const res = await this.request(method, path, headers, body);
    let parsed: { success?: boolean; data?: T; error?: { code?: string; message?: string } } | undefined;
    try { parsed = JSON.parse(res.body); } catch { /* reported below */ }
    if (res.status >= 300 || !parsed?.success) {
      throw new Error(`${method} ${path} → ${res.status} ${parsed?.error?.code ?? ''} ${parsed?.error?.message ?? res.body.slice(0, 200)}`);
    }
    return parsed.data as T;
  }

  close(): void {
    this.agent.destroy();
  }
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[idx];
}

export function summarize(values: number[]) {
  const s = Float64Array.from(values).sort();
  const arr = Array.from(s);
  return { count: arr.length, p50: percentile(arr, 50), p95: percentile(arr, 95), p99: percentile(arr, 99), max: arr.at(-1) ?? NaN };
}

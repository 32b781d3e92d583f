/**
 * A real webhook receiver for tests: node:http on 127.0.0.1, port 0. Every request is verified
 * with the `standardwebhooks` library against the endpoint's secret(s), exactly as an integrator
 * would; a request that fails verification is recorded as such (and answered 400).
 * `respond` decides the status per event (e.g. 503 while "down"); 0 holds the request unanswered
 * (a delivery in flight) until `dropHeld()` cuts those connections.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

export interface Received {
  id: string;
  timestamp: string;
  signature: string;
  body: string;
  event: { type: string; room_id?: string; [k: string]: unknown };
  status: number;
}

export interface Receiver {
  url: string;
  /** Secrets each request must verify with (all of them). */
  secrets: string[];
  /** Every request that verified, in arrival order (including ones answered with an error status). */
  received: Received[];
  /** Requests that failed verification (must stay empty). */
  rejected: { body: string; error: string }[];
  respond: (event: Received['event']) => number;
  /** Requests held unanswered (respond returned 0). */
  held: number;
  /** Cuts the held requests' connections (they count as failed attempts). */
  dropHeld(): void;
  /** Resolves once `n` requests answered 2xx. */
  waitForOk(n: number, timeoutMs?: number): Promise<Received[]>;
  /** Resolves once `pred` holds (checked after every request); `what` names it in the timeout error. */
  waitFor(pred: (r: Receiver) => boolean, what: string, timeoutMs?: number): Promise<void>;
  ok(): Received[];
  close(): Promise<void>;
}

export async function startReceiver(): Promise<Receiver> {
  const waiters = new Set<() => boolean>();
  const holding = new Set<http.ServerResponse>();
  const r: Receiver = {
    url: '', secrets: [], received: [], rejected: [], respond: () => 204,
    get held() { return holding.size; },
    dropHeld() {
      for (const res of holding) res.socket?.destroy();
      holding.clear();
    },
    ok: () => r.received.filter((x) => x.status >= 200 && x.status < 300),
    waitFor(pred, what, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => { waiters.delete(check); reject(new Error(`receiver: no ${what} after ${timeoutMs} ms (${r.received.length} received)`)); }, timeoutMs);
        const check = () => {
          if (!pred(r)) return false;
          clearTimeout(timer);
          resolve();
          return true;
        };
        if (!check()) waiters.add(check);
      });
    },
    async waitForOk(n, timeoutMs) {
      await r.waitFor((x) => x.ok().length >= n, `${n} deliveries answered 2xx`, timeoutMs);
      return r.ok();
    },
    close: () => new Promise((resolve) => { r.dropHeld(); server.closeAllConnections(); server.close(() => resolve()); }),
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const headers = req.headers as Record<string, string>;
      try {
        for (const secret of r.secrets) new Webhook(secret).verify(body, headers);
      } catch (err) {
        r.rejected.push({ body, error: String(err) });
        res.writeHead(400).end();
        return;
      }
      const event = JSON.parse(body) as Received['event'];
      const status = r.respond(event);
      r.received.push({ id: headers['webhook-id']!, timestamp: headers['webhook-timestamp']!, signature: headers['webhook-signature']!, body, event, status });
      if (status === 0) holding.add(res);
      else res.writeHead(status).end();
      for (const w of [...waiters]) if (w()) waiters.delete(w);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  r.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
  return r;
}

/**
 * A real webhook receiver for tests: node:http on 127.0.0.1, port 0. Every request is verified
 * with the `standardwebhooks` library against the endpoint's secret(s), exactly as an integrator
 * would; a request that fails verification is recorded as such (and answered 400).
 * `respond` decides the status per event (e.g. 503 while "down").
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
  /** Resolves once `n` requests answered 2xx. */
  waitForOk(n: number, timeoutMs?: number): Promise<Received[]>;
  ok(): Received[];
  close(): Promise<void>;
}

export async function startReceiver(): Promise<Receiver> {
  const waiters = new Set<() => boolean>();
  const r: Receiver = {
    url: '', secrets: [], received: [], rejected: [], respond: () => 204,
    ok: () => r.received.filter((x) => x.status < 300),
    waitForOk(n, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`receiver: ${r.ok().length}/${n} deliveries after ${timeoutMs} ms`)), timeoutMs);
        const check = () => {
          if (r.ok().length < n) return false;
          clearTimeout(timer);
          resolve(r.ok());
          return true;
        };
        if (!check()) waiters.add(check);
      });
    },
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
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
      res.writeHead(status).end();
      for (const w of [...waiters]) if (w()) waiters.delete(w);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  r.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
  return r;
}

/**
 * One webhook attempt: POST the event's JSON, signed by the Standard Webhooks scheme with every
 * active secret (the current one and, during a rotation's grace period, the previous one), and
 * report the outcome. Connections go through the SSRF guard's lookup.
 */
import http from 'node:http';
import https from 'node:https';
import { Webhook } from 'standardwebhooks';
import { guardedLookup } from './ssrf.ts';

export interface Attempt {
  status_code: number | null;
  latency_ms: number;
  error: string | null;
  ok: boolean;
}

export interface SendOptions {
  url: string;
  eventId: string;
  body: string;
  secrets: string[];
  timeoutMs: number;
  allowPrivate: boolean;
}

/** `v1,<sig>` per secret, space-separated, as the standard allows for rotation. */
export function signatures(secrets: string[], eventId: string, at: Date, body: string): string {
  return secrets.map((s) => new Webhook(s).sign(eventId, at, body)).join(' ');
}

const MAX_RESPONSE_BYTES = 64 * 1024;

/** Keep-alive agents (one per protocol and SSRF mode); every new connection goes through the guard. */
const agents = new Map<string, http.Agent>();
function agentFor(protocol: string, allowPrivate: boolean): http.Agent {
  const key = `${protocol}${allowPrivate}`;
  let agent = agents.get(key);
  if (!agent) {
    const opts = { keepAlive: true, maxSockets: 64, noDelay: true, lookup: guardedLookup(allowPrivate) as never };
    agent = protocol === 'https:' ? new https.Agent(opts) : new http.Agent(opts);
    agents.set(key, agent);
  }
  return agent;
}

export function sendWebhook(o: SendOptions): Promise<Attempt> {
  const started = performance.now();
  const at = new Date(); // the wall clock: receivers check the timestamp against theirs
  const headers = {
    'content-type': 'application/json',
    'user-agent': 'chatapi-webhooks/1',
    'webhook-id': o.eventId,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': signatures(o.secrets, o.eventId, at, o.body),
  };
  const done = (status: number | null, error: string | null): Attempt => ({
    status_code: status, latency_ms: Math.round(performance.now() - started), error, ok: status !== null && status >= 200 && status < 300,
  });
  return new Promise((resolve) => {
    const url = new URL(o.url);
    const lib = url.protocol === 'https:' ? https : http;
    const req = lib.request(url, {
      method: 'POST', headers: { ...headers, 'content-length': Buffer.byteLength(o.body) },
      timeout: o.timeoutMs, agent: agentFor(url.protocol, o.allowPrivate),
    }, (res) => {
      let seen = 0;
      res.on('data', (chunk: Buffer) => {
        seen += chunk.length;
        if (seen > MAX_RESPONSE_BYTES) res.destroy();
      });
      res.on('close', () => resolve(done(res.statusCode ?? null, res.statusCode && res.statusCode < 300 ? null : `HTTP ${res.statusCode}`)));
      res.on('error', () => {});
    });
    req.on('timeout', () => req.destroy(new Error(`timed out after ${o.timeoutMs} ms`)));
    req.on('error', (err: NodeJS.ErrnoException) => resolve(done(null, (err.code ? `${err.code}: ` : '') + err.message)));
    req.end(o.body);
  });
}

/**
 * Webhook delivery benchmark (not in CI): the real assembly (src/server.ts, REST off) on a fresh
 * database, a local receiver (node:http on 127.0.0.1, verifying every signature with
 * `standardwebhooks`, as an integrator would), and events made by `domain.messages.send`.
 *
 *   drain      N events committed while the worker is stopped, then delivered: events/s
 *   open loop  events committed at RATE/s for SECONDS, spread over ROOMS rooms: delay from each
 *              send's commit (its promise resolving) to the receiver's 2xx answer, p50/p99/max
 *
 *   node --import tsx load/bench/webhooks.ts [--n 10000] [--rate 1000] [--seconds 10] [--rooms 50]
 *   MYSQL_URL=mysql://root@127.0.0.1:3306/test node --import tsx load/bench/webhooks.ts   (both backends)
 */
import { randomBytes, randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import mysql from 'mysql2/promise';
import { Webhook } from 'standardwebhooks';
import { loadConfig } from '../../src/config.ts';
import type { UserCaller } from '../../src/domain/index.ts';
import { start, type RunningServer } from '../../src/server.ts';

const { values: args } = parseArgs({
  options: {
    n: { type: 'string', default: '10000' },
    rate: { type: 'string', default: '1000' },
    seconds: { type: 'string', default: '10' },
    rooms: { type: 'string', default: '50' },
  },
});
const N = Number(args.n);
const RATE = Number(args.rate);
const SECONDS = Number(args.seconds);
const ROOMS = Number(args.rooms);

interface Receiver { url: string; secret: string; arrivals: Map<string, number>; close(): Promise<void>; onCount(n: number): Promise<void> }

/** Verifies each delivery, records when each message id first arrived, answers 204. */
async function receiver(): Promise<Receiver> {
  const arrivals = new Map<string, number>();
  let verifier: Webhook | undefined;
  let waiting: { n: number; resolve(): void } | undefined;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      const evt = verifier!.verify(body, req.headers as Record<string, string>) as { message: { id: string } };
      if (!arrivals.has(evt.message.id)) arrivals.set(evt.message.id, performance.now());
      res.writeHead(204).end();
      if (waiting && arrivals.size >= waiting.n) waiting.resolve();
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const r: Receiver = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`, secret: '', arrivals,
    close: () => new Promise((done) => { server.closeAllConnections(); server.close(() => done()); }),
    onCount: (n) => new Promise((resolve, reject) => {
      if (arrivals.size >= n) return resolve();
      const timer = setTimeout(() => reject(new Error(`only ${arrivals.size}/${n} delivered in 120 s`)), 120_000);
      waiting = { n, resolve: () => { clearTimeout(timer); resolve(); } };
    }),
  };
  Object.defineProperty(r, 'secret', { set(s: string) { verifier = new Webhook(s); } });
  return r;
}

async function database(kind: 'sqlite' | 'mysql'): Promise<{ url: string; drop(): Promise<void> }> {
  if (kind === 'sqlite') {
    const file = join(tmpdir(), `chatapi-webhook-bench-${randomUUID()}.db`);
    return { url: `sqlite:${file}`, drop: async () => { for (const s of ['', '-wal', '-shm']) rmSync(file + s, { force: true }); } };
  }
  const base = new URL(process.env.MYSQL_URL!);
  const name = `chatapi_wh_${randomBytes(4).toString('hex')}`;
  const admin = () => mysql.createConnection({ host: base.hostname, port: Number(base.port || 3306), user: decodeURIComponent(base.username), password: decodeURIComponent(base.password) });
  const c = await admin();
  await c.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`);
  await c.end();
  base.pathname = `/${name}`;
  return { url: base.toString(), drop: async () => { const d = await admin(); await d.query(`DROP DATABASE \`${name}\``); await d.end(); } };
}

async function setup(s: RunningServer, rx: Receiver) {
  const { tenant } = await s.domain.tenants.create({ name: 'bench' });
  const t = { kind: 'tenant' as const, tenantId: tenant.id };
  const alice = await s.domain.users.create(t, { id: 'alice', username: 'alice' });
  const me: UserCaller = { kind: 'user', tenantId: tenant.id, user: alice, via: 'key' };
  const hook = await s.domain.webhooks.create(t, { url: rx.url, event_types: ['message.created'] });
  rx.secret = hook.secret;
  const rooms: string[] = [];
  for (let i = 0; i < ROOMS; i++) rooms.push((await s.domain.rooms.create(me, { type: 'group', name: `r${i}`, members: [] })).room.id);
  return { me, rooms };
}

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

async function drain(s: RunningServer, rx: Receiver, me: UserCaller, rooms: string[]): Promise<string> {
  await s.outbox.stop();
  const sends: Promise<unknown>[] = [];
  for (let i = 0; i < N; i++) sends.push(s.domain.messages.send(me, rooms[i % rooms.length]!, { content: `d${i}` }));
  await Promise.all(sends);
  const t0 = performance.now();
  s.outbox.start();
  await rx.onCount(N);
  const ms = performance.now() - t0;
  return `drain: ${N} events in ${(ms / 1000).toFixed(2)} s = ${Math.round(N / (ms / 1000))} events/s`;
}

async function openLoop(s: RunningServer, rx: Receiver, me: UserCaller, rooms: string[]): Promise<string> {
  const committed = new Map<string, number>();
  const total = RATE * SECONDS;
  const already = rx.arrivals.size;
  let sent = 0;
  const t0 = performance.now();
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const due = Math.min(total, Math.floor(((performance.now() - t0) / 1000) * RATE));
      for (; sent < due; sent++) {
        void s.domain.messages.send(me, rooms[sent % rooms.length]!, { content: `o${sent}` }).then(({ message }) => committed.set(message.id, performance.now()));
      }
      if (sent >= total) { clearInterval(timer); resolve(); }
    }, 5);
  });
  await rx.onCount(already + total);
  const delays = [...committed].map(([id, at]) => rx.arrivals.get(id)! - at).sort((a, b) => a - b);
  const offered = total / ((performance.now() - t0) / 1000);
  return `open loop at ${RATE}/s for ${SECONDS} s (${ROOMS} rooms; ${Math.round(offered)}/s end to end): commit→2xx p50 ${pct(delays, 50).toFixed(1)} ms, ` +
    `p99 ${pct(delays, 99).toFixed(1)} ms, max ${delays.at(-1)!.toFixed(1)} ms`;
}

async function run(kind: 'sqlite' | 'mysql'): Promise<void> {
  const db = await database(kind);
  const rx = await receiver();
  const config = {
    ...loadConfig({ LOG_LEVEL: 'warn' }), databaseUrl: db.url, httpPort: 0, wsPort: 0, host: '127.0.0.1',
    webhookAllowPrivate: true, rateLimitPerSecond: 100_000, rateLimitBurst: 100_000,
  };
  const s = await start(config, { http: false, ws: false });
  try {
    const { me, rooms } = await setup(s, rx);
    console.log(`[${kind}] ${await drain(s, rx, me, rooms)}`);
    console.log(`[${kind}] ${await openLoop(s, rx, me, rooms)}`);
  } finally {
    await s.close();
    await rx.close();
    await db.drop();
  }
}

await run('sqlite');
if (process.env.MYSQL_URL) await run('mysql');

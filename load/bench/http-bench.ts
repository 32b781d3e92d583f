/**
 * REST benchmarks, closed loop on 32 keep-alive connections (load/bench/httpload.ts):
 *   koa-bare          Koa + body parser echoing a JSON POST (the floor)
 *   koa+limiter       the same with the rate-limit middleware (its bare cost)
 *   contract          chatapi's Koa app (auth, openapi-backend routing + validation, envelope)
 *                     over a stub domain: POST sendMessage without a database
 *   contract+limiter  the same with the rate-limit middleware, as chatapi mounts it
 *   chatapi-send      real chatapi, POST /v1/rooms/{id}/messages on SQLite (group commit), every
 *                     request a new send (201; a replay would answer 200)
 * "wrong status" counts answers other than 2xx (chatapi-send: other than 201) and socket errors.
 */
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { procStat, startChild } from '../lib/processes.ts';
import { startChatapiSubject } from './chatapi-subject.ts';
import { httpLoad, rawRequest } from './httpload.ts';
import type { Results } from './report.ts';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const STUB_ROOM = '9b2f7c1e-5d4a-4e3b-8c2d-1a0b9c8d7e6f';

interface HttpSubject {
  name: string;
  /** `ok`: the one status a request of this subject should get (any 2xx when absent) */
  start(): Promise<{ port: number; pid: number; ok?: string; request(i: number): string; stop(): Promise<void> }>;
}

function stubServer(name: string, script: string, args: string[]): HttpSubject {
  return {
    name,
    async start() {
      const child = await startChild(here(`./servers/${script}.ts`), args, { ...process.env });
      return {
        port: child.httpPort,
        pid: child.pid,
        request: (i) => rawRequest('POST', `/v1/rooms/${STUB_ROOM}/messages`,
          { 'X-API-Key': 'bench-key', 'X-User-Id': 'bench-user', 'Idempotency-Key': `k${i}` }, { content: `hello ${i}` }),
        stop: () => child.stop(),
      };
    },
  };
}

const chatapiSend: HttpSubject = {
  name: 'chatapi-send',
  async start() {
    const s = await startChatapiSubject({ ws: false });
    const alice = await s.setup.user(s.tenant, 'alice');
    const bob = await s.setup.user(s.tenant, 'bob');
    const room = await s.setup.room(s.tenant, alice, [bob]);
    const nonce = randomUUID().slice(0, 8);
    // the key counts across runs: httpLoad numbers each run's requests from 0, and a repeated
    // Idempotency-Key is a replay (200, the original), not a send (201)
    let sent = 0;
    return {
      port: s.server.httpPort,
      pid: s.server.pid,
      ok: '201',
      request: () => {
        const i = sent++;
        return rawRequest('POST', `/v1/rooms/${room}/messages`,
          { 'X-API-Key': s.tenant.apiKey, 'X-User-Id': alice, 'Idempotency-Key': `${nonce}-${i}` }, { content: `hello ${i}` });
      },
      stop: () => s.stop(),
    };
  },
};

const SUBJECTS: HttpSubject[] = [
  stubServer('koa-bare', 'koa-bare', []),
  stubServer('koa+limiter', 'koa-bare', ['--limiter']),
  stubServer('contract', 'contract-only', []),
  stubServer('contract+limiter', 'contract-only', ['--limiter']),
  chatapiSend,
];

export async function runHttpBench(results: Results, opts: { runs: number; durationMs: number; deadline: number }): Promise<void> {
  const settled = await Promise.allSettled(SUBJECTS.map(async (s) => ({ s, h: await s.start() })));
  const started = settled.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  settled.forEach((r, i) => {
    if (r.status === 'rejected') console.log(`  http ${SUBJECTS[i].name}: not started (${(r.reason as Error).message})`);
  });
  try {
    for (let r = 0; r < opts.runs && Date.now() < opts.deadline; r++) {
      for (const { s, h } of started) {
        let cpuBefore = 0;
        const res = await httpLoad({
          port: h.port, connections: 32, durationMs: opts.durationMs, warmupMs: 1000, request: h.request,
          onMeasureStart: () => { cpuBefore = procStat(h.pid).cpuMs; },
          onMeasureEnd: () => { cpuBefore = procStat(h.pid).cpuMs - cpuBefore; },
        });
        const cpuUs = (cpuBefore * 1000) / Math.max(1, res.completed);
        const bad = res.completed - Object.entries(res.statuses).filter(([k]) => (h.ok ? k === h.ok : k.startsWith('2'))).reduce((n, [, v]) => n + v, 0);
        ((results.http ??= {})[s.name] ??= []).push({ rps: res.requestsPerSec, cpuUs, p50: res.p50, p99: res.p99, bad: bad + res.errors });
        console.log(`  http ${s.name}: ${Math.round(res.requestsPerSec)} req/s, ${cpuUs.toFixed(1)} µs CPU/req${bad ? ` (${bad} not ${h.ok ?? '2xx'}: ${JSON.stringify(res.statuses)})` : ''}`);
      }
    }
  } finally {
    await Promise.all(started.map(({ h }) => h.stop()));
  }
}

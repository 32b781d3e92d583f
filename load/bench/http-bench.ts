/**
 * REST benchmarks, closed loop on 32 keep-alive connections (load/bench/httpload.ts):
 *   koa-bare          Koa + body parser echoing a JSON POST (the floor)
 *   koa+limiter       the same with the rate-limit middleware (its bare cost)
 *   contract          chatapi's Koa app (auth, openapi-backend routing + validation, envelope)
 *                     over a stub domain: POST sendMessage without a database
 *   contract+limiter  the same with the rate-limit middleware, as chatapi mounts it
 *   contract+store    the contract layer with chatapi's durable store behind the stub (SQLite,
 *                     group commit, synchronous=FULL): the floor of a durable REST send
 *   chatapi-send      real chatapi, POST /v1/rooms/{id}/messages on SQLite (group commit), every
 *                     request a new send (201; a replay would answer 200)
 * "wrong status" counts answers other than 2xx (chatapi-send: other than 201) and socket errors.
 */
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { startChild } from '../lib/processes.ts';
import { startChatapiSubject } from './chatapi-subject.ts';
import { measureServer, rawRequest } from './httpload.ts';
import type { Results } from './report.ts';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
/** The room the stub servers (servers/contract-only.ts, koa-bare.ts) are posted to. */
export const STUB_ROOM = '9b2f7c1e-5d4a-4e3b-8c2d-1a0b9c8d7e6f';

/**
 * Request builder for one stub server: each call a new send. The keys count across runs, since
 * `--store` keeps every send and refuses a repeated key as a duplicate.
 */
export function stubSends(): () => string {
  let sent = 0;
  return () => {
    const i = sent++;
    return rawRequest('POST', `/v1/rooms/${STUB_ROOM}/messages`,
      { 'X-API-Key': 'bench-key', 'X-User-Id': 'bench-user', 'Idempotency-Key': `k${i}` }, { content: `hello ${i}` });
  };
}

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
        request: stubSends(),
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
  stubServer('contract+store', 'contract-only', ['--limiter', '--store']),
  chatapiSend,
];

/** Subjects without and with the rate limiter, measured in back-to-back pairs for the limiter's cost. */
const LIMITER_PAIRS = [['contract', 'contract+limiter'], ['koa-bare', 'koa+limiter']] as const;

export async function runHttpBench(results: Results, opts: { runs: number; durationMs: number; pairs: number; pairMs: number; deadline: number }): Promise<void> {
  const settled = await Promise.allSettled(SUBJECTS.map(async (s) => ({ s, h: await s.start() })));
  const started = settled.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  settled.forEach((r, i) => {
    if (r.status === 'rejected') console.log(`  http ${SUBJECTS[i].name}: not started (${(r.reason as Error).message})`);
  });
  try {
    for (let r = 0; r < opts.runs && Date.now() < opts.deadline; r++) {
      for (const { s, h } of started) {
        const m = await measureServer(h, { durationMs: opts.durationMs, warmupMs: 1000 });
        ((results.http ??= {})[s.name] ??= []).push({ rps: m.rps, cpuUs: m.cpuUs, p50: m.p50, p99: m.p99, bad: m.bad });
        console.log(`  http ${s.name}: ${Math.round(m.rps)} req/s, ${m.cpuUs.toFixed(1)} µs CPU/req${m.bad ? ` (${m.bad} not ${h.ok ?? '2xx'}: ${m.statuses})` : ''}`);
      }
    }
    // The limiter's cost is a few µs on a request of ~120: a difference smaller than what two
    // measurements seconds apart differ by on a shared machine (the same code read 0.7% and 27.6%
    // as ratios of the medians above). So it is read from pairs taken back to back, in ABBA order
    // (drift cancels), as the median of the pairs' ratios.
    for (const [without, withLimiter] of LIMITER_PAIRS) {
      const a = started.find((x) => x.s.name === without)?.h;
      const b = started.find((x) => x.s.name === withLimiter)?.h;
      if (!a || !b) continue;
      for (let p = 0; p < opts.pairs && Date.now() < opts.deadline; p++) {
        const [first, second] = p % 2 ? [b, a] : [a, b];
        const m1 = await measureServer(first, { durationMs: opts.pairMs, warmupMs: 300 });
        const m2 = await measureServer(second, { durationMs: opts.pairMs, warmupMs: 300 });
        const [ma, mb] = p % 2 ? [m2, m1] : [m1, m2];
        if (ma.bad || mb.bad) { // a pair with wrong answers measures something else: reported, not counted
          console.log(`  http ${withLimiter} / ${without}: pair ${p + 1} left out (${without} ${ma.statuses}, ${withLimiter} ${mb.statuses})`);
          continue;
        }
        ((results['http-limiter'] ??= {})[withLimiter] ??= []).push({ cpuRatio: mb.cpuUs / ma.cpuUs });
      }
      const ratios = (results['http-limiter']?.[withLimiter] ?? []).map((m) => m.cpuRatio);
      console.log(`  http ${withLimiter} / ${without}, CPU per request in ${ratios.length} back-to-back pairs: ${ratios.map((x) => `${((x - 1) * 100).toFixed(1)}%`).join(', ')}`);
    }
  } finally {
    await Promise.all(started.map(({ h }) => h.stop()));
  }
}

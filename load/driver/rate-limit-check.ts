/**
 * `make load-check`: the k6 rate-limit scenario (load/k6/rate-limit.ts), run briefly from Node
 * so CI can run it without k6. Starts chatapi in child processes on port 0 with a fresh SQLite
 * file, creates two tenants through the API, offers tenant A 150 req/s and tenant B 50 req/s
 * (open model) and checks the same thresholds as the k6 script. Tenant A's accepted count is judged
 * against the arrivals the driver really made (a busy machine may not hold 150/s); a run in which A
 * did not even exceed the limit is inconclusive and repeated (3 attempts). Exits 1 on any limiter
 * failure, or when no attempt could offer the load.
 *
 *   tsx load/driver/rate-limit-check.ts [--duration 8] [--rate-a 150] [--rate-b 50]
 *        [--limit 100] [--burst 100] [--nodes 2 --redis] [--target http://127.0.0.1:8080]
 * --redis shares the limit through REDIS_URL (default redis://127.0.0.1:6379): with --nodes 2
 * the requests alternate between two API nodes and must still see one bucket per tenant.
 * --target uses a running server (MASTER_KEY from the environment) instead of starting one.
 */
import { parseArgs } from 'node:util';
import { ChatApiSetup, type TenantHandle } from '../lib/api.ts';
import { HttpClient, type HttpResult, summarize } from '../lib/http.ts';
import { startChatapi, type ChatapiCluster } from '../lib/processes.ts';
import { runOpenModel, type StreamResult } from './open-model.ts';
import { type Check, evaluate, inconclusive, printReport, type Sample } from './rate-limit-report.ts';

const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '8' },
    'rate-a': { type: 'string', default: '150' },
    'rate-b': { type: 'string', default: '50' },
    limit: { type: 'string', default: '100' },
    burst: { type: 'string', default: '100' },
    nodes: { type: 'string', default: '1' },
    redis: { type: 'boolean', default: false },
    target: { type: 'string' },
  },
  allowPositionals: false,
});

const durationS = Number(args.duration);
/** Runs in which the driver could not offer the load are repeated, this many in all. */
const ATTEMPTS = 3;
const limits = { rate: Number(args.limit), burst: Number(args.burst) };
if (!(durationS > 0 && durationS <= 120)) throw new Error('--duration must be in (0, 120] seconds');

function sample(res: HttpResult, sentAt: number): Sample {
  let code: string | undefined;
  if (res.status >= 400) {
    try { code = JSON.parse(res.body)?.error?.code; } catch { code = 'UNPARSEABLE'; }
  }
  const h = res.headers;
  return {
    status: res.status,
    ms: res.ms,
    sentAt,
    retryAfter: h['retry-after'] as string | undefined,
    code,
    hasHeaders: Boolean(h['ratelimit-policy'] && h['ratelimit'] && h['x-ratelimit-limit'] &&
      h['x-ratelimit-remaining'] && h['x-ratelimit-reset']),
  };
}

/** After the run, tenant A waits its last Retry-After and tries once more: that must succeed. */
async function retryAfterSuffices(samples: Sample[], once: () => Promise<Sample>): Promise<Check> {
  const name = 'A: waiting Retry-After is enough';
  const last = samples.filter((s) => s.status === 429).at(-1);
  const wait = Number(last?.retryAfter);
  if (!last || !(wait > 0 && wait <= 10)) return { kind: 'limiter', name, ok: false, detail: `no usable Retry-After (${last?.retryAfter})` };
  await new Promise((r) => setTimeout(r, wait * 1000));
  const res = await once();
  return { kind: 'limiter', name, ok: res.status === 200, detail: `waited ${wait} s, then ${res.status}` };
}

async function main(): Promise<number> {
  let cluster: ChatapiCluster | undefined;
  let bases: string[];
  let masterKey: string;
  if (args.target) {
    bases = [args.target];
    masterKey = process.env.MASTER_KEY ?? '';
    if (!masterKey) throw new Error('--target needs MASTER_KEY in the environment');
  } else {
    const redisUrl = args.redis ? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' : undefined;
    cluster = await startChatapi({ nodes: Number(args.nodes), redisUrl });
    bases = cluster.nodes.map((n) => `http://127.0.0.1:${n.httpPort}`);
    masterKey = cluster.masterKey;
  }
  const clients = bases.map((b) => new HttpClient(b, { maxSockets: 512 }));
  try {
    const setup = new ChatApiSetup(clients[0], masterKey);
    const settings = { rate_limit_per_second: limits.rate, rate_limit_burst: limits.burst };
    const tenants: TenantHandle[] = [await setup.tenant('load-check A', settings), await setup.tenant('load-check B', settings)];
    const users = [await setup.user(tenants[0]), await setup.user(tenants[1])];
    const stream = (name: string, rate: number, t: TenantHandle, user: string) => ({
      name, rate,
      send: (i: number) => {
        const sentAt = performance.now();
        return clients[i % clients.length].request('GET', '/v1/me', { 'X-API-Key': t.apiKey, 'X-User-Id': user }).then((res) => sample(res, sentAt));
      },
    });
    for (let attempt = 1; ; attempt++) {
      // set-up (or the last attempt) took tokens from both buckets: let them refill completely before measuring
      await new Promise((r) => setTimeout(r, Math.ceil((limits.burst / limits.rate) * 1000) + 200));
      const results = await runOpenModel<Sample>([
        stream('A', Number(args['rate-a']), tenants[0], users[0]),
        stream('B', Number(args['rate-b']), tenants[1], users[1]),
      ], { durationMs: durationS * 1000, maxInFlight: 2000, graceMs: 10_000 });
      const report = evaluate(results as [StreamResult<Sample>, StreamResult<Sample>], { ...limits, durationS, nodes: bases.length });
      if (!inconclusive(report)) report.checks.push(await retryAfterSuffices(results[0].results, () => stream('A', 0, tenants[0], users[0]).send(0)));
      report.failures = report.checks.filter((c) => !c.ok);
      printReport(report, results.map((r) => ({ name: r.name, latency: summarize(r.results.map((s) => s.ms)) })));
      if (!inconclusive(report)) return report.failures.length ? 1 : 0;
      if (attempt >= ATTEMPTS) {
        console.log(`load-check: the driver could not offer the load in ${ATTEMPTS} attempts (machine too busy); no verdict on the limiter`);
        return 1;
      }
      console.log(`load-check: inconclusive (the driver could not offer the load), attempt ${attempt + 1} of ${ATTEMPTS}`);
    }
  } finally {
    clients.forEach((c) => c.close());
    await cluster?.stop();
  }
}

main().then((code) => process.exit(code), (err) => {
  console.error(`load-check: ${err instanceof Error ? err.stack : err}`);
  process.exit(1);
});

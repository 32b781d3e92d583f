/**
 * REST CPU per request (micro-benchmark for issue 12's REST goals):
 *   tsx load/bench/rest-cpu.ts [--subjects koa-bare,contract,contract+limiter,chatapi-send] [--repeat 3] [--ms 3000] [--connections 32] [--before DIR]
 * The subjects and load of http-bench.ts, repeated: subjects take turns, so on a machine shared
 * with other jobs each sees the same load, and the summary gives the median and lowest server CPU
 * µs/request (from /proc/<pid>/stat) per subject. chatapi-send also prints sends per group commit
 * (the node's chatapi_send_batch_size). With CHATAPI_CPU_PROF=<dir> each child writes a profile;
 * run one subject at a time then, so its profile holds that subject only. `--before DIR` runs
 * each subject also from another checkout (e.g. `git archive <commit> | tar -x -C DIR`, with a
 * node_modules link), in turns with this one: a before/after comparison under the same load.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { startChild } from '../lib/processes.ts';
import { startChatapiSubject } from './chatapi-subject.ts';
import { stubSends } from './http-bench.ts';
import { measureServer, rawRequest } from './httpload.ts';

const { values: args } = parseArgs({
  options: { subjects: { type: 'string' }, ms: { type: 'string' }, connections: { type: 'string' }, repeat: { type: 'string' }, before: { type: 'string' } },
});
const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
type Started = { port: number; pid: number; ok?: string; request(i: number): string; stop(): Promise<void>; after?(): Promise<string> };

const stub = (script: string, extra: string[], root?: string) => async (): Promise<Started> => {
  const child = await startChild(root ? join(root, `load/bench/servers/${script}.ts`) : here(`./servers/${script}.ts`), extra, { ...process.env });
  return { port: child.httpPort, pid: child.pid, stop: () => child.stop(), request: stubSends() };
};

const SUBJECTS: Record<string, (root?: string) => Promise<Started>> = {
  'koa-bare': (root) => stub('koa-bare', [], root)(),
  'koa+limiter': (root) => stub('koa-bare', ['--limiter'], root)(),
  contract: (root) => stub('contract-only', [], root)(),
  'contract+limiter': (root) => stub('contract-only', ['--limiter'], root)(),
  'contract+store': (root) => stub('contract-only', ['--limiter', '--store'], root)(),
  'chatapi-send': (root?: string) => chatapiSend(root),
};

async function chatapiSend(root?: string): Promise<Started> {
  const start: typeof startChatapiSubject = root
    ? (await import(pathToFileURL(join(root, 'load/bench/chatapi-subject.ts')).href)).startChatapiSubject
    : startChatapiSubject;
  const s = await start({ ws: false });
  const alice = await s.setup.user(s.tenant, 'alice');
  const bob = await s.setup.user(s.tenant, 'bob');
  const room = await s.setup.room(s.tenant, alice, [bob]);
  const nonce = randomUUID().slice(0, 8);
  // the key counts across repeats: httpLoad numbers each run's requests from 0, and a repeated
  // Idempotency-Key is a replay (200, the original), not a send (201)
  let sent = 0;
  return {
    port: s.server.httpPort, pid: s.server.pid, stop: () => s.stop(), ok: '201',
    // sends per group-commit batch, from the node's own histogram
    after: async () => {
      const text = await (await fetch(`http://127.0.0.1:${s.server.httpPort}/metrics`)).text();
      const num = (name: string) => Number(new RegExp(`^${name}(?:{[^}]*})? (\\S+)`, 'm').exec(text)?.[1] ?? NaN);
      const sum = num('chatapi_send_batch_size_sum'), count = num('chatapi_send_batch_size_count');
      if (!(count > 0)) return `no batch figures: ${text.split('\n').filter((l) => l.includes('batch')).slice(0, 4).join(' / ')}`;
      return `${count} batches, ${(sum / count).toFixed(1)} sends/batch`;
    },
    request: () => {
      const i = sent++;
      return rawRequest('POST', `/v1/rooms/${room}/messages`,
        { 'X-API-Key': s.tenant.apiKey, 'X-User-Id': alice, 'Idempotency-Key': `${nonce}-${i}` }, { content: `hello ${i}` });
    },
  };
}

// --before DIR: every subject also runs from another checkout (named `<subject>@before`), in turns with this one
const picked = (args.subjects ?? Object.keys(SUBJECTS).join(',')).split(',');
const names = args.before ? picked.flatMap((n) => [n, `${n}@before`]) : picked;
const repeat = Number(args.repeat ?? 1);
// All subjects run at once and take turns, so each sees the same machine load; the summary gives
// the lowest and the median CPU per request of each over the repeats.
const started: [string, Started][] = [];
for (const name of names) {
  const [base, variant] = name.split('@');
  const start = SUBJECTS[base];
  if (!start) throw new Error(`unknown subject ${name}`);
  started.push([name, await start(variant ? args.before : undefined)]);
}
const cpus = new Map<string, number[]>(names.map((n) => [n, []]));
const rates = new Map<string, number[]>(names.map((n) => [n, []]));
try {
  for (let r = 0; r < repeat; r++) {
    for (const [name, h] of started) {
      const m = await measureServer(h, { durationMs: Number(args.ms ?? 3000), warmupMs: 1000, connections: Number(args.connections ?? 32) });
      const us = m.cpuUs;
      cpus.get(name)!.push(us);
      rates.get(name)!.push(m.rps);
      console.log(`${name.padEnd(17)} ${String(Math.round(m.rps)).padStart(6)} req/s  ${us.toFixed(1).padStart(6)} µs CPU/req  p50 ${m.p50.toFixed(2)} ms  not ${h.ok ?? '2xx'} ${m.bad}${h.after ? `  ${await h.after()}` : ''}`);
    }
  }
} finally {
  await Promise.all(started.map(([, h]) => h.stop()));
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
console.log(`\nsubject            req/s (median, max)   CPU µs/req (median, min)`);
for (const name of names) {
  const c = cpus.get(name)!, q = rates.get(name)!;
  console.log(`${name.padEnd(17)} ${String(Math.round(median(q))).padStart(7)} ${String(Math.round(Math.max(...q))).padStart(7)}   ${median(c).toFixed(1).padStart(8)} ${Math.min(...c).toFixed(1).padStart(7)}`);
}

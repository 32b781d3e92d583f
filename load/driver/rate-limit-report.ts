/** Thresholds of the rate-limit scenario (same as load/k6/rate-limit.ts) and the printed table. */
import type { StreamResult } from './open-model.ts';

/** One answered request: `sentAt` is when it left (performance.now() ms), `ms` how long its answer took. */
export interface Sample { status: number; ms: number; sentAt: number; retryAfter?: string; code?: string; hasHeaders: boolean }
/**
 * `driver` checks say whether the run could judge the limiter at all (the machine may be too busy
 * to offer the load); a run failing only those is inconclusive and is retried, never passed off
 * as a verdict on the limiter. `limiter` checks are the verdict.
 */
export interface Check { name: string; ok: boolean; detail: string; kind: 'driver' | 'limiter' }
export interface Report { checks: Check[]; failures: Check[]; rows: Record<string, string | number>[] }

const ACCEPT = 0.03; // accepted counts within 3% of what the bucket allows for the arrivals made
const EXCEED = 1.2; // A must arrive at ≥ 1.2 × the limit for the run to exercise limiting

/**
 * How many of these arrivals (ms, any order) the contract's bucket accepts: it starts full with
 * `burst` tokens, refills continuously at `rate`/s, and a request takes one token if there is one.
 */
export function bucketAccepts(times: number[], p: { rate: number; burst: number }): number {
  const sorted = [...times].sort((x, y) => x - y);
  let tokens = p.burst;
  let last = sorted[0] ?? 0;
  let accepted = 0;
  for (const t of sorted) {
    tokens = Math.min(p.burst, tokens + ((t - last) * p.rate) / 1000);
    last = t;
    if (tokens >= 1) {
      tokens -= 1;
      accepted++;
    }
  }
  return accepted;
}

/**
 * What the bucket allows for the arrivals this stream really made. The server decided each request
 * somewhere between its sending and its answer, so the bucket is replayed at both ends: the count
 * expected lies between the two (plus ACCEPT for clock and scheduling slack). Judged this way a
 * driver that fell behind its target rate (a busy machine) still gets an exact verdict.
 */
export function expectedAccepts(results: Sample[], p: { rate: number; burst: number }): { lo: number; hi: number } {
  const atSend = bucketAccepts(results.map((r) => r.sentAt), p);
  const atAnswer = bucketAccepts(results.map((r) => r.sentAt + r.ms), p);
  const lo = Math.min(atSend, atAnswer);
  const hi = Math.max(atSend, atAnswer);
  return { lo: Math.floor(lo * (1 - ACCEPT)), hi: Math.ceil(hi * (1 + ACCEPT)) };
}

/** Arrivals per second over the span the stream really sent in. */
function arrivalRate(s: StreamResult<Sample>): number {
  const times = s.results.map((r) => r.sentAt);
  const span = (Math.max(...times) - Math.min(...times)) / 1000;
  return span > 0 ? (times.length - 1) / span : 0;
}

export function evaluate(
  [a, b]: [StreamResult<Sample>, StreamResult<Sample>],
  p: { rate: number; burst: number; durationS: number; nodes: number },
): Report {
  const checks: Check[] = [];
  const check = (kind: Check['kind'], name: string, ok: boolean, detail: string) => checks.push({ kind, name, ok, detail });
  for (const s of [a, b]) {
    check('limiter', `${s.name}: every request answered`, s.failed === 0 && s.abandoned === 0,
      `failed ${s.failed}, abandoned ${s.abandoned}${s.errors.length ? ` (${s.errors[0]})` : ''}`);
    const no5xx = s.results.filter((r) => r.status >= 500).length;
    check('limiter', `${s.name}: no 5xx`, no5xx === 0, `${no5xx} responses >= 500`);
    const unexpected = s.results.filter((r) => r.status !== 200 && r.status !== 429 && r.status < 500).length;
    check('limiter', `${s.name}: only 200 or 429`, unexpected === 0, `${unexpected} other statuses`);
    const bare = s.results.filter((r) => !r.hasHeaders).length;
    check('limiter', `${s.name}: rate-limit headers on every response`, bare === 0, `${bare} without`);
    const accepted = s.results.filter((r) => r.status === 200).length;
    const { lo, hi } = expectedAccepts(s.results, p);
    check('limiter', `${s.name}: accepted = what the bucket allows for the arrivals made`, accepted >= lo && accepted <= hi,
      `${accepted} accepted of ${s.results.length} sent at ${arrivalRate(s).toFixed(1)}/s; the bucket allows ${lo}–${hi}`);
  }
  const rateA = arrivalRate(a);
  check('driver', 'A: arrivals exceeded the limit (the run exercises limiting)', rateA >= p.rate * EXCEED && a.dropped === 0,
    `${rateA.toFixed(1)}/s sent of ${a.rate}/s offered (limit ${p.rate}/s; lag p99 ${a.lagP99Ms.toFixed(1)} ms, dropped ${a.dropped})`);
  const rejectedA = a.results.filter((r) => r.status === 429);
  const badRejections = rejectedA.filter((r) => !/^[1-9]\d*$/.test(r.retryAfter ?? '') || r.code !== 'RATE_LIMIT_EXCEEDED').length;
  check('limiter', 'A: every rejection is 429 RATE_LIMIT_EXCEEDED with Retry-After', rejectedA.length > 0 && badRejections === 0,
    `${rejectedA.length} rejected, ${badRejections} malformed`);
  const limitedB = b.results.filter((r) => r.status === 429).length;
  const bucketLimitsB = expectedAccepts(b.results, p).hi < b.results.length;
  check('limiter', 'B: never limited (no 429)', limitedB === 0 || bucketLimitsB, `${limitedB} × 429`);
  const rows = [a, b].map((s) => ({
    tenant: s.name,
    offered: `${s.rate}/s`,
    held: `${s.achievedRate.toFixed(1)}/s`,
    sent: s.sent,
    'ok (200)': s.results.filter((r) => r.status === 200).length,
    limited: s.results.filter((r) => r.status === 429).length,
    other: s.results.filter((r) => r.status !== 200 && r.status !== 429).length + s.failed + s.abandoned,
    'accepted/s': (s.results.filter((r) => r.status === 200).length / p.durationS).toFixed(1),
  }));
  return { checks, failures: checks.filter((c) => !c.ok), rows };
}

/** Only driver checks failed: the machine could not offer the load, so the run says nothing about the limiter. */
export const inconclusive = (report: Report): boolean =>
  report.failures.length > 0 && report.failures.every((c) => c.kind === 'driver');

export function printReport(report: Report, latency: { name: string; latency: { p50: number; p95: number; p99: number } }[]): void {
  const rows = report.rows.map((r) => {
    const l = latency.find((x) => x.name === r.tenant)!.latency;
    return { ...r, 'p50 ms': l.p50.toFixed(1), 'p95 ms': l.p95.toFixed(1), 'p99 ms': l.p99.toFixed(1) };
  });
  console.log(formatTable(rows));
  console.log('');
  for (const c of report.checks) console.log(`${c.ok ? 'PASS' : 'FAIL'}  ${c.name}: ${c.detail}`);
  console.log(report.failures.length ? `\nload-check: ${report.failures.length} threshold(s) failed` : '\nload-check: all thresholds met');
}

export function formatTable(rows: Record<string, string | number>[]): string {
  if (!rows.length) return '';
  const cols = Object.keys(rows[0]);
  const width = cols.map((c) => Math.max(c.length, ...rows.map((r) => String(r[c] ?? '').length)));
  const line = (vals: string[]) => vals.map((v, i) => (i === 0 ? v.padEnd(width[i]) : v.padStart(width[i]))).join('  ');
  return [line(cols), line(width.map((w) => '-'.repeat(w))), ...rows.map((r) => line(cols.map((c) => String(r[c] ?? ''))))].join('\n');
}

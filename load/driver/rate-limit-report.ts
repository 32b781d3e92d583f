/** Thresholds of the rate-limit scenario (same as load/k6/rate-limit.ts) and the printed table. */
import type { StreamResult } from './open-model.ts';

export interface Sample { status: number; ms: number; retryAfter?: string; code?: string; hasHeaders: boolean }
export interface Check { name: string; ok: boolean; detail: string }
export interface Report { checks: Check[]; failures: Check[]; rows: Record<string, string | number>[] }

const HOLD = 0.02; // the driver must offer within 2% of the target rate
const ACCEPT = 0.03; // tenant A's accepted count within 3% of what the bucket allows

export function evaluate(
  [a, b]: [StreamResult<Sample>, StreamResult<Sample>],
  p: { rate: number; burst: number; durationS: number; nodes: number },
): Report {
  const checks: Check[] = [];
  const check = (name: string, ok: boolean, detail: string) => checks.push({ name, ok, detail });
  for (const s of [a, b]) {
    check(`${s.name}: offered rate held`, s.achievedRate >= s.rate * (1 - HOLD) && s.dropped === 0,
      `${s.achievedRate.toFixed(1)}/s on time of ${s.rate}/s (lag p99 ${s.lagP99Ms.toFixed(1)} ms, dropped ${s.dropped})`);
    check(`${s.name}: every request answered`, s.failed === 0 && s.abandoned === 0,
      `failed ${s.failed}, abandoned ${s.abandoned}${s.errors.length ? ` (${s.errors[0]})` : ''}`);
    const no5xx = s.results.filter((r) => r.status >= 500).length;
    check(`${s.name}: no 5xx`, no5xx === 0, `${no5xx} responses >= 500`);
    const unexpected = s.results.filter((r) => r.status !== 200 && r.status !== 429 && r.status < 500).length;
    check(`${s.name}: only 200 or 429`, unexpected === 0, `${unexpected} other statuses`);
    const bare = s.results.filter((r) => !r.hasHeaders).length;
    check(`${s.name}: rate-limit headers on every response`, bare === 0, `${bare} without`);
  }
  const allowed = p.burst + p.rate * p.durationS;
  const expectedA = Math.min(allowed, a.sent);
  const acceptedA = a.results.filter((r) => r.status === 200).length;
  check('A: accepted ≈ burst + rate × duration', Math.abs(acceptedA - expectedA) <= expectedA * ACCEPT,
    `${acceptedA} accepted, bucket allows ${expectedA} (±${Math.floor(expectedA * ACCEPT)})`);
  const rejectedA = a.results.filter((r) => r.status === 429);
  const badRejections = rejectedA.filter((r) => !/^[1-9]\d*$/.test(r.retryAfter ?? '') || r.code !== 'RATE_LIMIT_EXCEEDED').length;
  check('A: every rejection is 429 RATE_LIMIT_EXCEEDED with Retry-After', rejectedA.length > 0 && badRejections === 0,
    `${rejectedA.length} rejected, ${badRejections} malformed`);
  const limitedB = b.results.filter((r) => r.status === 429).length;
  check('B: never limited (no 429)', limitedB === 0, `${limitedB} × 429`);
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

/**
 * Rate limit, open model: tenant A is offered 150 req/s, tenant B 50 req/s, for 30 s, each
 * against its own token bucket (100/s sustained, burst 100, unless RATE_LIMIT/BURST say
 * otherwise). Thresholds:
 *   - A is accepted at what the bucket allows: burst + rate × duration, within 3%;
 *   - every rejection is 429 RATE_LIMIT_EXCEEDED with a Retry-After;
 *   - B, under its limit, never sees 429 (A's flood does not touch B);
 *   - no 5xx; k6 offered the load it promised (no dropped iterations);
 *   - A's and B's p95 latency are reported (http_req_duration{tenant:A|B}; threshold P95_MS, 500 ms).
 * Run:  k6 run -e MASTER_KEY=... load/k6/rate-limit.ts
 * Env:  BASE_URL (http://127.0.0.1:8080), RATE_A (150), RATE_B (50), DURATION (30, seconds),
 *       RATE_LIMIT (100), BURST (100), P95_MS (500)
 */
import http from 'k6/http';
import { check, sleep } from 'k6';
import { Counter } from 'k6/metrics';
import type { Options } from 'k6/options';
import { createTenant, createUser, header, runId, type Tenant } from './lib/api.ts';
import { BASE_URL, num } from './lib/env.ts';

const RATE_A = num('RATE_A', 150);
const RATE_B = num('RATE_B', 50);
const DURATION = num('DURATION', 30);
const LIMIT = num('RATE_LIMIT', 100);
const BURST = num('BURST', 100);
const P95_MS = num('P95_MS', 500);

// What a token bucket lets through in DURATION seconds, never more than was offered.
const ALLOWED_A = Math.min(RATE_A * DURATION, BURST + LIMIT * DURATION);
const TOLERANCE = 0.03;

const acceptedA = new Counter('accepted_a');
const limitedB = new Counter('limited_b');
// Per tenant, for the summary (thresholds make k6 print each tenant's count); 0 added in setup.
const accepted = new Counter('accepted');
const limited = new Counter('limited_429');
const badRejections = new Counter('bad_rejections');
const serverErrors = new Counter('server_errors');
const unexpected = new Counter('unexpected_status');

const scenario = (exec: string, rate: number) => ({
  executor: 'constant-arrival-rate' as const,
  exec,
  rate,
  timeUnit: '1s',
  duration: `${DURATION}s`,
  preAllocatedVUs: Math.ceil(rate / 5),
  maxVUs: rate * 4,
  gracefulStop: '10s',
});

export const options: Options = {
  setupTimeout: '60s',
  scenarios: { tenant_a: scenario('tenantA', RATE_A), tenant_b: scenario('tenantB', RATE_B) },
  thresholds: {
    accepted_a: [`count>=${Math.floor(ALLOWED_A * (1 - TOLERANCE))}`, `count<=${Math.ceil(ALLOWED_A * (1 + TOLERANCE))}`],
    limited_b: ['count==0'],
    bad_rejections: ['count==0'],
    server_errors: ['count==0'],
    unexpected_status: ['count==0'],
    'dropped_iterations{scenario:tenant_a}': [`count<=${Math.floor(RATE_A * DURATION * 0.02)}`],
    'dropped_iterations{scenario:tenant_b}': [`count<=${Math.floor(RATE_B * DURATION * 0.02)}`],
    'http_req_duration{tenant:A}': [`p(95)<${P95_MS}`],
    'http_req_duration{tenant:B}': [`p(95)<${P95_MS}`],
    // A run that measured nothing fails; and the summary shows accepted and 429 counts per tenant.
    'accepted{tenant:A}': ['count>0'],
    'accepted{tenant:B}': ['count>0'],
    'limited_429{tenant:A}': ['count>=0'],
    'limited_429{tenant:B}': ['count==0'],
  },
  summaryTrendStats: ['avg', 'p(50)', 'p(95)', 'p(99)', 'max'],
};

interface Data { a: Tenant; b: Tenant; userA: string; userB: string }

export function setup(): Data {
  for (const tenant of ['A', 'B']) { accepted.add(0, { tenant }); limited.add(0, { tenant }); }
  const id = runId();
  const settings = { rate_limit_per_second: LIMIT, rate_limit_burst: BURST };
  const a = createTenant(`k6 rate-limit A ${id}`, settings);
  const b = createTenant(`k6 rate-limit B ${id}`, settings);
  const data = { a, b, userA: createUser(a, `a-${id}`), userB: createUser(b, `b-${id}`) };
  sleep(BURST / LIMIT + 0.5); // set-up took tokens: start with full buckets
  return data;
}

function hit(t: Tenant, user: string, tenant: 'A' | 'B'): void {
  const res = http.get(`${BASE_URL}/v1/me`, {
    headers: { 'X-API-Key': t.apiKey, 'X-User-Id': user },
    tags: { tenant, name: 'GET /v1/me' },
    responseCallback: http.expectedStatuses(200, 429),
  });
  if (res.status >= 500) serverErrors.add(1, { tenant });
  else if (res.status !== 200 && res.status !== 429) unexpected.add(1, { tenant, status: String(res.status) });
  check(res, { 'rate-limit headers present': (r) => Boolean(header(r, 'RateLimit-Policy') && header(r, 'RateLimit') && header(r, 'X-RateLimit-Remaining')) });
  if (res.status === 200) accepted.add(1, { tenant });
  if (res.status === 200 && tenant === 'A') acceptedA.add(1);
  if (res.status !== 429) return;
  limited.add(1, { tenant });
  if (tenant === 'B') limitedB.add(1);
  let code = '';
  try { code = (res.json() as { error: { code: string } }).error.code; } catch { /* counted below */ }
  const ok = /^[1-9]\d*$/.test(header(res, 'Retry-After') ?? '') && code === 'RATE_LIMIT_EXCEEDED';
  if (!ok) badRejections.add(1, { tenant });
}

export function tenantA(data: Data): void { hit(data.a, data.userA, 'A'); }
export function tenantB(data: Data): void { hit(data.b, data.userB, 'B'); }

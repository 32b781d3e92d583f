// The load-check thresholds (same as load/k6/rate-limit.ts) judge a run correctly.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { StreamResult } from '../../load/driver/open-model.ts';
import { evaluate, type Sample } from '../../load/driver/rate-limit-report.ts';

const ok: Sample = { status: 200, ms: 2, hasHeaders: true };
const limited: Sample = { status: 429, ms: 1, retryAfter: '1', code: 'RATE_LIMIT_EXCEEDED', hasHeaders: true };

function stream(name: string, rate: number, results: Sample[], extra: Partial<StreamResult<Sample>> = {}): StreamResult<Sample> {
  return {
    name, rate, target: results.length, sent: results.length, dropped: 0, failed: 0, abandoned: 0,
    achievedRate: rate, lagP99Ms: 1, results, errors: [], ...extra,
  };
}

const params = { rate: 100, burst: 100, durationS: 10, nodes: 1 };
const failing = (r: ReturnType<typeof evaluate>) => r.failures.map((f) => f.name);

test('a limiter that grants burst + rate × duration passes', () => {
  const a = stream('A', 150, [...Array(1100).fill(ok), ...Array(400).fill(limited)]);
  const b = stream('B', 50, Array(500).fill(ok));
  assert.deepEqual(failing(evaluate([a, b], params)), []);
});

test('a leaky limiter (or one refilling faster than documented) fails', () => {
  const a = stream('A', 150, [...Array(1200).fill(ok), ...Array(300).fill(limited)]);
  const b = stream('B', 50, Array(500).fill(ok));
  assert.deepEqual(failing(evaluate([a, b], params)), ['A: accepted ≈ burst + rate × duration']);
});

test('a stingy limiter, like one that refills at half the documented rate, fails', () => {
  const a = stream('A', 150, [...Array(600).fill(ok), ...Array(900).fill(limited)]);
  const b = stream('B', 50, Array(500).fill(ok));
  assert.ok(failing(evaluate([a, b], params)).includes('A: accepted ≈ burst + rate × duration'));
});

test('B limited, a bare 429, a 5xx or missing headers each fail', () => {
  const a = stream('A', 150, [...Array(1100).fill(ok), ...Array(399).fill(limited), { status: 429, ms: 1, hasHeaders: true }]);
  const b = stream('B', 50, [...Array(498).fill(ok), limited, { status: 503, ms: 1, hasHeaders: false }]);
  assert.deepEqual(failing(evaluate([a, b], params)).sort(), [
    'A: every rejection is 429 RATE_LIMIT_EXCEEDED with Retry-After',
    'B: never limited (no 429)',
    'B: no 5xx',
    'B: rate-limit headers on every response',
  ]);
});

test('a driver that could not hold the offered rate fails, whatever the server did', () => {
  const a = stream('A', 150, [...Array(1100).fill(ok), ...Array(400).fill(limited)], { achievedRate: 140 });
  const b = stream('B', 50, Array(500).fill(ok), { dropped: 3 });
  assert.deepEqual(failing(evaluate([a, b], params)), ['A: offered rate held', 'B: offered rate held']);
});

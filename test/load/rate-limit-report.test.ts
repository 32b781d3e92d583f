// The load-check thresholds (same as load/k6/rate-limit.ts) judge a run correctly: the limiter is
// judged against the arrivals the driver really made, so a driver that falls behind on a busy
// machine does not fail a correct limiter, and a wrong limiter fails however the driver did.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { StreamResult } from '../../load/driver/open-model.ts';
import { bucketAccepts, evaluate, inconclusive, type Sample } from '../../load/driver/rate-limit-report.ts';

const params = { rate: 100, burst: 100, durationS: 10, nodes: 1 };
const failing = (r: ReturnType<typeof evaluate>) => r.failures.map((f) => f.name);

/** Arrival times (ms) of `n` requests at `rate`/s, optionally with stalls: [at ms, for ms] shift every later arrival. */
function arrivals(rate: number, n: number, stalls: [number, number][] = []): number[] {
  return Array.from({ length: n }, (_, i) => {
    const t = (i * 1000) / rate;
    return t + stalls.filter(([at]) => at <= t).reduce((sum, [, d]) => sum + d, 0);
  });
}

type Limiter = (times: number[]) => boolean[];

/** The contract's bucket at a given refill rate (a wrong rate models a wrong limiter). */
const bucket = (rate: number, burst: number): Limiter => (times) => {
  let tokens = burst;
  let last = 0;
  return times.map((t) => {
    tokens = Math.min(burst, tokens + ((t - last) * rate) / 1000);
    last = t;
    if (tokens < 1) return false;
    tokens -= 1;
    return true;
  });
};
const correct = bucket(params.rate, params.burst);

/** The server's answers to these arrivals under `limiter`, each answered `latencyMs` later. */
function served(times: number[], limiter: Limiter, latencyMs = 2): Sample[] {
  return limiter(times).map((ok, i) => ok
    ? { status: 200, ms: latencyMs, sentAt: times[i]!, hasHeaders: true }
    : { status: 429, ms: latencyMs, sentAt: times[i]!, retryAfter: '1', code: 'RATE_LIMIT_EXCEEDED', hasHeaders: true });
}

function stream(name: string, rate: number, results: Sample[], extra: Partial<StreamResult<Sample>> = {}): StreamResult<Sample> {
  return {
    name, rate, target: rate * params.durationS, sent: results.length, dropped: 0, failed: 0, abandoned: 0,
    achievedRate: rate, lagP99Ms: 1, results, errors: [], ...extra,
  };
}

const bOnTime = () => stream('B', 50, served(arrivals(50, 500), correct));

test('the replayed bucket grants burst + rate × duration to a stream well over the limit', () => {
  const accepted = bucketAccepts(arrivals(150, 1500), params);
  assert.ok(Math.abs(accepted - (100 + 100 * 10)) <= 2, String(accepted));
});

test('a correct limiter with a driver on time passes', () => {
  const a = stream('A', 150, served(arrivals(150, 1500), correct));
  assert.deepEqual(failing(evaluate([a, bOnTime()], params)), []);
});

test('a correct limiter passes when the driver falls behind (145.6/s of 150/s, or stalls that bunch arrivals)', () => {
  const slow = stream('A', 150, served(arrivals(145.6, 1456), correct), { achievedRate: 145.6 });
  assert.deepEqual(failing(evaluate([slow, bOnTime()], params)), []);
  // The event loop stalls three times for 400 ms, then sends the overdue arrivals at once.
  const stalled = arrivals(150, 1500, [[2000, 400], [5000, 400], [8000, 400]]);
  const bunched = stream('A', 150, served(stalled, correct, 30), { achievedRate: 120, lagP99Ms: 400 });
  assert.deepEqual(failing(evaluate([bunched, bOnTime()], params)), []);
});

test('a leaky limiter (refilling faster than documented) fails, on time or behind', () => {
  const leaky = bucket(120, 100);
  for (const rate of [150, 140]) {
    const a = stream('A', 150, served(arrivals(rate, rate * 10), leaky), { achievedRate: rate });
    assert.deepEqual(failing(evaluate([a, bOnTime()], params)), ['A: accepted = what the bucket allows for the arrivals made'], `at ${rate}/s`);
  }
});

test('a stingy limiter, like one that refills at half the documented rate, fails, on time or behind', () => {
  const stingy = bucket(50, 100);
  for (const rate of [150, 140]) {
    const a = stream('A', 150, served(arrivals(rate, rate * 10), stingy), { achievedRate: rate });
    assert.ok(failing(evaluate([a, bOnTime()], params)).includes('A: accepted = what the bucket allows for the arrivals made'), `at ${rate}/s`);
  }
});

test('a driver that could not even exceed the limit makes the run inconclusive (retried), not a pass', () => {
  const crawl = stream('A', 150, served(arrivals(90, 900), correct), { achievedRate: 90 });
  const report = evaluate([crawl, bOnTime()], params);
  assert.deepEqual(failing(report), ['A: arrivals exceeded the limit (the run exercises limiting)', 'A: every rejection is 429 RATE_LIMIT_EXCEEDED with Retry-After']);
  assert.equal(inconclusive(report), false, 'no rejection at all is also a limiter verdict');
  const crawlOver = stream('A', 150, served(arrivals(110, 1100), correct), { achievedRate: 110 });
  const over = evaluate([crawlOver, bOnTime()], params);
  assert.deepEqual(failing(over), ['A: arrivals exceeded the limit (the run exercises limiting)']);
  assert.equal(inconclusive(over), true);
});

test('B limited, a bare 429, a 5xx or missing headers each fail', () => {
  const aResults = served(arrivals(150, 1500), correct);
  const last429 = aResults.findLastIndex((r) => r.status === 429);
  aResults[last429] = { ...aResults[last429]!, retryAfter: undefined, code: undefined };
  const bResults = served(arrivals(50, 500), correct);
  bResults[100] = { ...bResults[100]!, status: 429, retryAfter: '1', code: 'RATE_LIMIT_EXCEEDED' };
  bResults[200] = { ...bResults[200]!, status: 503, hasHeaders: false };
  const failures = failing(evaluate([stream('A', 150, aResults), stream('B', 50, bResults)], params)).sort();
  assert.deepEqual(failures, [
    'A: every rejection is 429 RATE_LIMIT_EXCEEDED with Retry-After',
    'B: never limited (no 429)',
    'B: no 5xx',
    'B: rate-limit headers on every response',
  ].sort());
});

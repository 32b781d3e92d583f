// The open-model scheduler behind `make load-check`: it sends on schedule regardless of
// responses, counts what it could not send, and reports the rate it really held.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runOpenModel } from '../../load/driver/open-model.ts';

test('sends rate × duration requests on schedule, independent of response time', async () => {
  const sentAt: number[] = [];
  const [r] = await runOpenModel([{
    name: 'a', rate: 200,
    send: (i) => { sentAt.push(performance.now()); return new Promise((res) => setTimeout(res, 50, i)); },
  }], { durationMs: 500 });
  assert.equal(r.target, 100);
  assert.equal(r.sent, 100);
  assert.equal(r.results.length, 100);
  assert.deepEqual([r.dropped, r.failed, r.abandoned], [0, 0, 0]);
  // arrivals are spread over the window (not bunched) and slow responses (50 ms) did not hold
  // them back: a closed loop would have needed 100 × 50 ms = 5 s (bounds leave room for a busy CI)
  const span = sentAt.at(-1)! - sentAt[0];
  assert.ok(span > 400 && span < 2500, `100 arrivals spread over ${span.toFixed(0)} ms`);
  assert.ok(r.achievedRate > 0 && r.achievedRate <= 200, `held ${r.achievedRate}/s`);
});

test('arrivals beyond maxInFlight are dropped and counted; open requests are abandoned after grace', async () => {
  const [r] = await runOpenModel([{ name: 'stuck', rate: 100, send: () => new Promise<never>(() => {}) }],
    { durationMs: 200, maxInFlight: 5, graceMs: 50 });
  assert.equal(r.target, 20);
  assert.equal(r.sent, 5);
  assert.equal(r.dropped, 15);
  assert.equal(r.abandoned, 5);
  assert.ok(r.achievedRate < 100 * 0.98, 'a driver that could not send does not claim the rate');
});

test('failures are counted, not thrown', async () => {
  const [r] = await runOpenModel([{ name: 'f', rate: 100, send: async (i) => { if (i % 2) throw new Error('boom'); return i; } }],
    { durationMs: 100 });
  assert.equal(r.sent, 10);
  assert.equal(r.failed, 5);
  assert.deepEqual(r.errors.slice(0, 1), ['boom']);
});

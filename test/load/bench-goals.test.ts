// make bench's goal table reads its figures right: the REST sendMessage line carries the REST floor
// (contract+store) in the floor column, and the budget line under the table works out what 500 × 10
// saturated at 0.6× uws-raw leaves chatapi's own work on the main thread, and says so when the
// floor alone, or the contract floor, takes more than the goal allows.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fanoutGoals, httpGoals, mainThreadBudget } from '../../load/bench/goals.ts';
import type { Results } from '../../load/bench/report.ts';

/** One run per subject: deliveries/s and the main thread's share of a core, saturated. */
function fanout(rates: Record<string, [number, number]>): Results {
  const scenario: Results[string] = {};
  for (const [subject, [rate, main]] of Object.entries(rates)) scenario[subject] = [{ satDeliveriesPerSec: rate, satMainThread: main }];
  return { '500x10': scenario };
}

test('the budget line: what 0.6x uws-raw leaves chatapi beside the floor, and what chatapi took', () => {
  // uws-raw 400k/s: 0.6x is 240k/s, 41.67 µs of main thread per message of 10 deliveries; the floor
  // spends 0.8 core / 200k/s = 40 µs per message; chatapi 0.9 core / 150k/s = 60 µs
  const line = mainThreadBudget(fanout({ 'uws-raw': [400_000, 0.7], 'uws-durable': [200_000, 0.8], chatapi: [150_000, 0.9] }), '500x10', 10, 0.6);
  assert.match(line, /leaves a main thread 41\.7 µs per message; the floor's store and fan-out take 40\.0, which leaves 1\.7 µs for chatapi's own work/);
  assert.match(line, /chatapi's own work took 20\.0 in this run \(its main thread 60\.0 µs per message\)/);
});

test('the budget line says so when the floor alone takes more than the goal allows', () => {
  const line = mainThreadBudget(fanout({ 'uws-raw': [400_000, 0.7], 'uws-durable': [150_000, 0.9], chatapi: [120_000, 0.9] }), '500x10', 10, 0.6);
  assert.match(line, /take 60\.0: more than that, so no send that is durable on this store reaches the goal in this run/);
  assert.doesNotMatch(line, /which leaves/);
});

test('the budget line weighs the contract floor when it ran: over the goal, or leaving room for the architecture', () => {
  // the contract floor: 0.85 core / 170k/s = 50 µs per message, over the 41.67 allowed
  const over = mainThreadBudget(fanout({ 'uws-raw': [400_000, 0.7], 'uws-contract': [170_000, 0.85], 'uws-durable': [200_000, 0.8], chatapi: [150_000, 0.9] }), '500x10', 10, 0.6);
  assert.match(over, /the contract floor \(the same with the contract's per-send work, done directly\) takes 50\.0, more than the goal allows: no send that does what the contract asks reaches it on this store in this run/);
  assert.match(over, /chatapi's own work took 20\.0/);
  // 0.8 core / 200k/s = 40 µs: 1.7 µs left for the rest
  const under = mainThreadBudget(fanout({ 'uws-raw': [400_000, 0.7], 'uws-contract': [200_000, 0.8], 'uws-durable': [250_000, 0.8], chatapi: [150_000, 0.9] }), '500x10', 10, 0.6);
  assert.match(under, /takes 40\.0, which leaves 1\.7 µs for chatapi's architecture/);
});

test('the budget line says when the main thread was not the only limit of the run', () => {
  const busy = mainThreadBudget(fanout({ 'uws-raw': [400_000, 0.7], 'uws-durable': [200_000, 0.8], chatapi: [150_000, 0.9] }), '500x10', 10, 0.6);
  assert.doesNotMatch(busy, /was on a core/);
  const shared = mainThreadBudget(fanout({ 'uws-raw': [400_000, 0.7], 'uws-durable': [200_000, 0.8], chatapi: [150_000, 0.8] }), '500x10', 10, 0.6);
  assert.match(shared, /chatapi's main thread was on a core 80% of the window, so in this run its rate was set by more than that thread/);
});

test('no budget line without the floor in the run', () => {
  assert.equal(mainThreadBudget(fanout({ 'uws-raw': [400_000, 0.7], chatapi: [150_000, 0.9] }), '500x10', 10, 0.6), '');
});

test("the REST sendMessage goal shows contract+store's ratio as its floor", () => {
  const http: Results[string] = {
    'koa-bare': [{ rps: 40_000 }], contract: [{ rps: 16_000 }], 'contract+store': [{ rps: 12_000 }], 'chatapi-send': [{ rps: 11_000 }],
  };
  const send = httpGoals({ http }).find((g) => g.goal.startsWith('REST: sendMessage'));
  assert.ok(send);
  assert.equal(send.measured, '0.28×');
  assert.equal(send.met, false);
  assert.equal(send.floor, '0.30×');
});

test('the WebSocket goals carry the contract floor beside the durable floor', () => {
  const row = (rate: number) => [{ satDeliveriesPerSec: rate }];
  const results: Results = {
    '500x10': { chatapi: row(120_000), 'uws-raw': row(300_000), 'ws-loop': row(100_000), 'uws-contract': row(150_000), 'uws-durable': row(180_000) },
    '1x1000': { chatapi: row(1_000_000) },
  };
  const sat = fanoutGoals(results, '500x10', '1x1000', 100_000).find((g) => g.goal === 'saturated 500x10: chatapi ≥ 0.6× uws-raw');
  assert.ok(sat);
  assert.equal(sat.measured, '0.40×');
  assert.equal(sat.contract, '0.50×');
  assert.equal(sat.floor, '0.60×');
});

/**
 * The benchmark goals (ratios for a 2-core machine), evaluated on median results.
 * Each WebSocket goal compares chatapi with a baseline; the same ratio for Soketi is printed
 * beside it for reference (a product a user might pick instead; not a goal), and for uws-durable
 * (uws-raw with chatapi's durable store in front: what any durable send on this store costs) and
 * uws-contract (that, plus the per-send work the AsyncAPI contract asks for, done directly: what a
 * send that does what the contract says costs on this store, without chatapi's architecture).
 * REST sendMessage has its own floor beside it: contract+store (the contract layer and the store alone).
 */
import { type Goal, type Results, atLeast, atMost, fmt, med, ratio, worst } from './report.ts';

type Check = (goal: string, value: number, bound: number) => Goal;

/** A reference ratio as the goal table prints it (blank when that subject did not run). */
const refRatio = (x: number) => (Number.isFinite(x) ? `${fmt(x, 2)}×` : '');

/** the goal for chatapi, with Soketi's, uws-contract's and uws-durable's figures for the same ratio as reference */
function vs(check: Check, goal: string, results: Results, scenario: string, metric: string, base: string, bound: number): Goal {
  const g = check(goal, ratio(results, scenario, metric, 'chatapi', base), bound);
  const ref = (name: string) => refRatio(ratio(results, scenario, metric, name, base));
  return { ...g, soketi: ref('soketi'), contract: ref('uws-contract'), floor: ref('uws-durable') };
}

export function fanoutGoals(results: Results, many: string, one: string, offered: number): Goal[] {
  if (!results[many]?.chatapi) return [];
  const k = `${offered / 1000}k/s`;
  const goals: Goal[] = [
    vs(atLeast, `saturated ${one}: chatapi ≥ 0.5× uws-raw deliveries/s`, results, one, 'satDeliveriesPerSec', 'uws-raw', 0.5),
    vs(atLeast, `saturated ${one}: chatapi ≥ 5× ws-loop`, results, one, 'satDeliveriesPerSec', 'ws-loop', 5),
    vs(atLeast, `saturated ${many}: chatapi ≥ 0.6× uws-raw`, results, many, 'satDeliveriesPerSec', 'uws-raw', 0.6),
    vs(atLeast, `saturated ${many}: chatapi ≥ 2× ws-loop`, results, many, 'satDeliveriesPerSec', 'ws-loop', 2),
  ];
  for (const sc of [one, many]) {
    goals.push(vs(atMost, `@${k} ${sc}: chatapi p99 ≤ 2× uws-raw`, results, sc, 'offP99', 'uws-raw', 2));
    goals.push(vs(atMost, `@${k} ${sc}: chatapi CPU/delivery ≤ 1.3× uws-raw`, results, sc, 'offCpuUs', 'uws-raw', 1.3));
    const lost = worst(results, sc, 'chatapi', 'lost');
    const ref = (name: string) => {
      const n = worst(results, sc, name, 'lost');
      return Number.isFinite(n) ? `${n} lost` : '';
    };
    goals.push({
      goal: `@${k} ${sc}: chatapi loses no message`, measured: `${lost} lost/out of order`, met: Number.isFinite(lost) ? lost === 0 : null,
      soketi: ref('soketi'), contract: ref('uws-contract'), floor: ref('uws-durable'),
    });
  }
  goals.push(vs(atMost, 'memory/connection ≤ 3× uws-raw', results, many, 'bytesPerConn', 'uws-raw', 3));
  goals.push(vs(atMost, 'memory/connection below ws-loop', results, many, 'bytesPerConn', 'ws-loop', 0.999));
  const n = med(results, many, 'chatapi', 'connections');
  goals.push(vs(atMost, `connect + authenticate ${fmt(n, 0)} clients ≤ 3× uws-raw (no auth)`, results, many, 'connectMs', 'uws-raw', 3));
  return goals;
}

/** the big-room goal: connecting `size` members to one room within 3× uws-raw's time */
export function bigRoomGoals(results: Results, size: number): Goal[] {
  const sc = `big ${size}`;
  if (!results[sc]?.chatapi) return [];
  return [vs(atMost, `connect ${size.toLocaleString('en-US')} members of one room ≤ 3× uws-raw`, results, sc, 'connectMs', 'uws-raw', 3)];
}

export function httpGoals(results: Results): Goal[] {
  if (!results.http) return [];
  const r = (a: string, b: string) => ratio(results, 'http', 'rps', a, b);
  return [
    atLeast('REST: contract layer ≥ 0.35× bare Koa', r('contract', 'koa-bare'), 0.35),
    // the floor column: contract+store (servers/contract-only.ts --store), the contract layer and the durable store alone
    { ...atLeast('REST: sendMessage (SQLite) ≥ 0.3× bare Koa', r('chatapi-send', 'koa-bare'), 0.3), floor: refRatio(r('contract+store', 'koa-bare')) },
    // a cost: server CPU per request with the limiter vs without (throughput moves with machine noise),
    // from the back-to-back pairs (http-bench.ts) when they ran
    atMost('REST: rate limiter costs ≤ 10% (contract layer, CPU/request)', limiterCost(results, 'contract+limiter', 'contract'), 10, '%'),
    atMost('REST: rate limiter cost on bare Koa (CPU/request, reference)', limiterCost(results, 'koa+limiter', 'koa-bare'), Infinity, '%'),
  ];
}

/** The limiter's cost in %: the median of the back-to-back pairs' CPU ratios, or else the ratio of the runs' medians. */
function limiterCost(results: Results, withLimiter: string, without: string): number {
  const paired = med(results, 'http-limiter', withLimiter, 'cpuRatio');
  return ((Number.isFinite(paired) ? paired : ratio(results, 'http', 'cpuUs', withLimiter, without)) - 1) * 100;
}

/**
 * What a saturated goal leaves chatapi's own work on the node's main thread, in µs per message: at
 * `bound` × uws-raw's rate a main thread (one core at most) may spend 1 s / that rate per delivery;
 * the floor (uws-durable: the store and the fan-out, nothing else) spends its own share of a core
 * divided by its rate; the rest is what chatapi's authentication, frames, acks and sequencing may
 * cost. When the contract floor ran (uws-contract: the floor plus the per-send work the contract
 * asks for, done directly), the line also says whether a send that does what the contract says can
 * reach the goal on this store. Printed under the goal table, with what chatapi's own work cost in
 * the same run. Empty without the floor.
 */
export function mainThreadBudget(results: Results, scenario: string, deliveriesPerMessage: number, bound: number): string {
  const rate = (s: string) => med(results, scenario, s, 'satDeliveriesPerSec');
  const perMessage = (s: string) => (med(results, scenario, s, 'satMainThread') * 1e6 * deliveriesPerMessage) / rate(s);
  const allowed = (1e6 * deliveriesPerMessage) / (bound * rate('uws-raw'));
  const floor = perMessage('uws-durable');
  const chatapi = perMessage('chatapi');
  if (![allowed, floor, chatapi].every(Number.isFinite)) return '';
  const head = `saturated ${scenario} at ${bound}× uws-raw leaves a main thread ${fmt(allowed)} µs per message; the floor's store and fan-out take ${fmt(floor)}`;
  const left = allowed > floor
    ? `${head}, which leaves ${fmt(allowed - floor)} µs for chatapi's own work`
    : `${head}: more than that, so no send that is durable on this store reaches the goal in this run`;
  const contract = perMessage('uws-contract');
  const contractTakes = `; the contract floor (the same with the contract's per-send work, done directly) takes ${fmt(contract)}`;
  const withContract = !Number.isFinite(contract) ? '' : allowed > contract
    ? `${contractTakes}, which leaves ${fmt(allowed - contract)} µs for chatapi's architecture`
    : `${contractTakes}, more than the goal allows: no send that does what the contract asks reaches it on this store in this run`;
  const share = med(results, scenario, 'chatapi', 'satMainThread');
  // The budget is main-thread time: it decides the rate only while that thread is on a core nearly all the time.
  const limit = share < MAIN_THREAD_BOUND
    ? `; chatapi's main thread was on a core ${Math.round(share * 100)}% of the window, so in this run its rate was set by more than that thread (the cores it shares with the harness)`
    : '';
  return `${left}${withContract}; chatapi's own work took ${fmt(chatapi - floor)} in this run (its main thread ${fmt(chatapi)} µs per message)${limit}`;
}

/** Below this share of a core, a saturated run's main thread was not its only limit. */
const MAIN_THREAD_BOUND = 0.85;

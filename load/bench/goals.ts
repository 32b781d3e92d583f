/** The benchmark goals (ratios for a 2-core machine), evaluated on median results. */
import { type Goal, type Results, atLeast, atMost, med, ratio, worst } from './report.ts';

export function fanoutGoals(results: Results, many: string, one: string, offered: number): Goal[] {
  if (!results[many]?.chatapi) return [];
  const k = `${offered / 1000}k/s`;
  const goals: Goal[] = [
    atLeast(`saturated ${one}: chatapi ≥ 0.5× uws-raw deliveries/s`, ratio(results, one, 'satDeliveriesPerSec', 'chatapi', 'uws-raw'), 0.5),
    atLeast(`saturated ${one}: chatapi ≥ 5× ws-loop`, ratio(results, one, 'satDeliveriesPerSec', 'chatapi', 'ws-loop'), 5),
    atLeast(`saturated ${many}: chatapi ≥ 0.6× uws-raw`, ratio(results, many, 'satDeliveriesPerSec', 'chatapi', 'uws-raw'), 0.6),
    atLeast(`saturated ${many}: chatapi ≥ 2× ws-loop`, ratio(results, many, 'satDeliveriesPerSec', 'chatapi', 'ws-loop'), 2),
  ];
  for (const sc of [one, many]) {
    goals.push(atMost(`@${k} ${sc}: chatapi p99 ≤ 2× uws-raw`, ratio(results, sc, 'offP99', 'chatapi', 'uws-raw'), 2));
    goals.push(atMost(`@${k} ${sc}: chatapi CPU/delivery ≤ 1.3× uws-raw`, ratio(results, sc, 'offCpuUs', 'chatapi', 'uws-raw'), 1.3));
    const lost = worst(results, sc, 'chatapi', 'lost');
    goals.push({ goal: `@${k} ${sc}: chatapi loses no message`, measured: `${lost} lost/out of order`, met: Number.isFinite(lost) ? lost === 0 : null });
  }
  const memUws = ratio(results, many, 'bytesPerConn', 'chatapi', 'uws-raw');
  goals.push(atMost('memory/connection ≤ 3× uws-raw', memUws, 3));
  goals.push(atMost('memory/connection below ws-loop', ratio(results, many, 'bytesPerConn', 'chatapi', 'ws-loop'), 0.999));
  goals.push({ goal: `connect + auth ${med(results, many, 'chatapi', 'connections')} clients`, measured: `${Math.round(med(results, many, 'chatapi', 'connectMs'))} ms`, met: null });
  return goals;
}

export function httpGoals(results: Results): Goal[] {
  if (!results.http) return [];
  const r = (a: string, b: string) => ratio(results, 'http', 'rps', a, b);
  return [
    atLeast('REST: contract layer ≥ 0.35× bare Koa', r('contract', 'koa-bare'), 0.35),
    atLeast('REST: sendMessage (SQLite) ≥ 0.15× bare Koa', r('chatapi-send', 'koa-bare'), 0.15),
    // a cost: server CPU per request with the limiter vs without (throughput moves with machine noise)
    atMost('REST: rate limiter costs ≤ 10% (contract layer, CPU/request)', (ratio(results, 'http', 'cpuUs', 'contract+limiter', 'contract') - 1) * 100, 10, '%'),
    atMost('REST: rate limiter cost on bare Koa (CPU/request, reference)', (ratio(results, 'http', 'cpuUs', 'koa+limiter', 'koa-bare') - 1) * 100, Infinity, '%'),
  ];
}

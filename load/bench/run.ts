/**
 * `make bench`: chatapi against the uWebSockets.js ceiling (uws-raw), a plain `ws` server
 * (ws-loop) and Soketi (a Pusher-protocol product on uWebSockets.js), same machine, same run,
 * back to back; plus REST against bare Koa, and how costs grow with size (scale.ts).
 * Every server runs in its own child process; one client harness (raw sockets) drives them.
 * Prints median tables over --runs runs (default 3; the heavy size scenarios --heavy-runs,
 * default 1), growth tables, ratios, and the issue's goals met/missed.
 *
 *   tsx load/bench/run.ts [--quick] [--runs N] [--heavy-runs N] [--only fanout,http,big,scale]
 *     [--big 1000,5000,10000] [--scale 5000,10000,19000] [--subjects chatapi,uws-raw,ws-loop,soketi,uws-contract,uws-durable] [--json file]
 *
 * big: one room of N members per size, fresh process each: connect time (presence, replay and
 * subscription per join), memory, p50/p99 fan-out at a modest message rate.
 * scale: N connections in rooms of 10, fresh process each: connect time, memory, idle CPU.
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { FanoutRun } from './fanout.ts';
import { runHttpBench } from './http-bench.ts';
import { type Results, goalTable, growthTable, scenarioTable } from './report.ts';
import { bigRoomGoals, fanoutGoals, httpGoals, mainThreadBudget } from './goals.ts';
import { bigRoomScenarios, scaleScenarios } from './scale.ts';
import { FANOUT_ONLY, SUBJECTS, type Subject, type SubjectName, startSubject } from './subjects.ts';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    runs: { type: 'string' },
    only: { type: 'string' },
    subjects: { type: 'string' },
    json: { type: 'string' },
    big: { type: 'string' },
    scale: { type: 'string' },
    'heavy-runs': { type: 'string' },
  },
});

const quick = args.quick!;
const plan = {
  runs: Number(args.runs ?? (quick ? 1 : 3)),
  // saturated load: each of a room's `senders` keeps `window` messages in flight
  many: quick ? { rooms: 50, size: 10, senders: 1, window: 4 } : { rooms: 500, size: 10, senders: 1, window: 4 },
  one: quick ? { rooms: 1, size: 200, senders: 8, window: 4 } : { rooms: 1, size: 1000, senders: 8, window: 4 },
  offered: quick ? 20_000 : 100_000,
  warmMs: quick ? 500 : 1000,
  measureMs: quick ? 1500 : 4000,
  offerMs: quick ? 1500 : 4000,
  httpMs: quick ? 1500 : 3000,
  // the limiter's cost: back-to-back pairs (with and without), each side this long after a short warm-up
  limiterPairs: quick ? 4 : 6,
  limiterPairMs: quick ? 1000 : 1500,
};
const sizes = (arg: string | undefined, dflt: number[]) => (arg ? arg.split(',').map(Number) : dflt).sort((a, b) => a - b);
const parts = new Set(args.only?.split(',') ?? ['fanout', 'http', 'big', 'scale']);
for (const p of parts) if (!['fanout', 'http', 'big', 'scale'].includes(p)) throw new Error(`--only: unknown part ${p}`);
const subjectNames = (args.subjects?.split(',') ?? SUBJECTS) as SubjectName[];
const deadline = Date.now() + (quick ? 15 : 40) * 60_000; // hard bound on the whole run
const heavy = {
  runs: Number(args['heavy-runs'] ?? 1),
  big: sizes(args.big, quick ? [200, 1000] : [1000, 5000, 10_000]),
  scale: sizes(args.scale, quick ? [1000, 3000] : [5000, 10_000, 19_000]).map((n) => Math.round(n / 10) * 10),
  idleMs: quick ? 2000 : 3000,
  bigRate: quick ? 5_000 : 20_000,
  bigMs: quick ? 2000 : 3000,
  deadline,
};

async function fanoutRound(subject: Subject, scenario: string, p: typeof plan.many, results: Results, freshProcess: boolean) {
  const target = await subject.layout(p.rooms, p.size);
  const run = new FanoutRun(target, p.rooms, p.size, p.senders);
  try {
    const c = await run.connect();
    const sat = await run.saturate(p.window, plan.warmMs, plan.measureMs);
    const off = await run.offer(plan.offered, plan.offerMs);
    const m = {
      // RSS growth is only meaningful on a process that has not held connections before
      connections: c.count, connectMs: c.connectMs, connectCpuUs: c.cpuUsPerConn, bytesPerConn: freshProcess ? c.bytesPerConn : NaN,
      satDeliveriesPerSec: sat.deliveriesPerSec, satCpuUs: sat.cpuUsPerDelivery, satP50: sat.p50, satP99: sat.p99,
      satClientCpu: sat.clientCpuUtil, satServerCpu: sat.serverCpuUtil, satMainThread: sat.mainThread.run, offDeliveriesPerSec: off.deliveriesPerSec, offCpuUs: off.cpuUsPerDelivery,
      offP50: off.p50, offP99: off.p99, lost: off.lost + off.gaps, held: off.heldOffered ? 1 : 0,
      closes: run.unexpectedCloses, errors: run.errorFrames, drained: off.drained ? 1 : 0,
    };
    ((results[scenario] ??= {})[subject.name] ??= []).push(m);
    console.log(`  ${scenario} ${subject.name}: ${Math.round(m.satDeliveriesPerSec)} deliveries/s saturated, ` +
      `p99 ${m.offP99.toFixed(1)} ms at ${plan.offered}/s, lost ${m.lost}${Number.isFinite(m.bytesPerConn) ? `, ${Math.round(m.bytesPerConn)} B/conn` : ''}` +
      `${m.errors ? `, ${m.errors} error frames (first: ${run.firstError})` : ''}${m.closes ? `, ${m.closes} closed by the server` : ''}`);
  } finally {
    await run.close();
  }
}

async function main(): Promise<number> {
  const results: Results = {};
  const manyName = `${plan.many.rooms}x${plan.many.size}`;
  const oneName = `${plan.one.rooms}x${plan.one.size}`;
  if (parts.has('fanout')) {
    const subjects: Subject[] = [];
    try {
      for (const name of subjectNames) {
        try {
          subjects.push(await startSubject(name));
        } catch (err) {
          console.log(`  ${name}: not started (${(err as Error).message}); its rows stay empty`);
        }
      }
      for (let r = 0; r < plan.runs && Date.now() < deadline; r++) {
        console.log(`run ${r + 1}/${plan.runs}`);
        const order = subjects.map((_, i) => subjects[(i + r) % subjects.length]); // rotate: no fixed order bias
        for (const s of order) {
          if (r > 0) await s.restart(); // every run measures a fresh process (memory, warm-up)
          await fanoutRound(s, manyName, plan.many, results, true);
          await fanoutRound(s, oneName, plan.one, results, false);
        }
      }
    } finally {
      await Promise.all(subjects.map((s) => s.stop()));
    }
  }
  if (parts.has('http')) await runHttpBench(results, { runs: plan.runs, durationMs: plan.httpMs, pairs: plan.limiterPairs, pairMs: plan.limiterPairMs, deadline });
  const sizedNames = subjectNames.filter((n) => !FANOUT_ONLY.includes(n));
  if (parts.has('big')) await bigRoomScenarios(results, sizedNames, heavy);
  if (parts.has('scale')) await scaleScenarios(results, sizedNames, heavy);

  console.log(`\nchatapi bench — medians of ${plan.runs} run(s)${quick ? ' (quick: smaller sizes, not comparable to the goals)' : ''}\n`);
  const fanCols: [string, string, number?][] = [
    ['sat deliveries/s', 'satDeliveriesPerSec'], ['sat CPU µs/deliv', 'satCpuUs', 2], ['sat p50 ms', 'satP50'],
    ['sat p99 ms', 'satP99'], [`p50 ms @${plan.offered / 1000}k/s`, 'offP50', 2], [`p99 ms @${plan.offered / 1000}k/s`, 'offP99', 2],
    [`CPU µs/deliv @${plan.offered / 1000}k/s`, 'offCpuUs', 2], ['lost', 'lost', 0], ['errors', 'errors', 0], ['B/conn', 'bytesPerConn', 0],
    ['connect ms', 'connectMs', 0], ['connect CPU µs/conn', 'connectCpuUs', 0], ['server CPU', 'satServerCpu', 2], ['main thread', 'satMainThread', 2], ['client CPU', 'satClientCpu', 2],
  ];
  for (const sc of [manyName, oneName]) if (results[sc]) console.log(scenarioTable(results, sc, fanCols) + '\n');
  if (results.http) console.log(scenarioTable(results, 'http', [['req/s', 'rps', 0], ['CPU µs/req', 'cpuUs', 1], ['p50 ms', 'p50', 2], ['p99 ms', 'p99', 2], ['wrong status', 'bad', 0]]) + '\n');
  const growth: [string, number[], string, string, { digits?: number; perUnit?: boolean }][] = [
    ['big', heavy.big, 'connectMs', 'one room: connect all members, ms', { digits: 0, perUnit: true }],
    ['big', heavy.big, 'connectCpuUs', 'one room: server CPU µs per join', { digits: 0 }],
    ['big', heavy.big, 'bytesPerConn', 'one room: server B/member', { digits: 0 }],
    ['big', heavy.big, 'p50', `one room @${heavy.bigRate / 1000}k deliv/s: p50 ms`, { digits: 1 }],
    ['big', heavy.big, 'p99', `one room @${heavy.bigRate / 1000}k deliv/s: p99 ms`, { digits: 1 }],
    ['big', heavy.big, 'cpuUs', `one room @${heavy.bigRate / 1000}k deliv/s: CPU µs/delivery`, { digits: 2 }],
    ['big', heavy.big, 'lost', 'one room: lost/out of order', { digits: 0 }],
    ['scale', heavy.scale, 'connectMs', 'rooms of 10: connect all, ms', { digits: 0, perUnit: true }],
    ['scale', heavy.scale, 'connectCpuUs', 'rooms of 10: server CPU µs per connect', { digits: 0 }],
    ['scale', heavy.scale, 'bytesPerConn', 'rooms of 10: server B/conn', { digits: 0 }],
    ['scale', heavy.scale, 'idleCpuPct', 'rooms of 10: idle server CPU %', { digits: 1 }],
  ];
  const growthOut = growth.map(([prefix, ns, metric, label, o]) => growthTable(results, prefix, ns, metric, label, o)).filter(Boolean);
  if (growthOut.length) {
    console.log(`growth with size (fresh process per size, ${heavy.runs} run(s); per-unit growth 1.00× = linear)\n`);
    console.log(growthOut.join('\n\n') + '\n');
  }
  const goals = [...fanoutGoals(results, manyName, oneName, plan.offered), ...bigRoomGoals(results, heavy.big[heavy.big.length - 1]), ...httpGoals(results)];
  console.log(goalTable(goals));
  const budget = mainThreadBudget(results, manyName, plan.many.size, 0.6);
  if (budget) console.log(`\n${budget}`);
  if (args.json) writeFileSync(args.json, JSON.stringify({ plan, results, goals }, null, 2));
  return 0;
}

main().then((code) => process.exit(code), (err) => {
  console.error(`bench: ${err instanceof Error ? err.stack : err}`);
  process.exit(1);
});

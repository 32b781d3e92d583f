/**
 * How cost grows with size, one fresh server process per size (runs=1 is the default: these
 * are the heavy scenarios):
 *  - scale: N connections in rooms of 10 (5,000 / 10,000 / 19,000; the open-file limit is
 *    20,000 per process, for the harness as for the server): connect (+auth) time, server
 *    memory per connection, idle server CPU with everyone connected;
 *  - big: one room of N members (1,000 / 5,000 / 10,000): connect time, memory per connection,
 *    then p50/p99 fan-out latency and CPU per delivery at a modest rate: the same deliveries per
 *    second for every size (20,000/s: 20 messages/s into 1,000 members, 2/s into 10,000), so the
 *    harness receives the same load and the latency is how long one message takes to reach N.
 * Results go to results[`scale ${n}`] and results[`big ${n}`], one Metrics per run.
 */
import { FanoutRun } from './fanout.ts';
import type { Results } from './report.ts';
import { type Subject, type SubjectName, startSubject } from './subjects.ts';

export interface ScalePlan {
  runs: number;
  /** connection counts, multiples of 10 */
  scale: number[];
  /** room sizes */
  big: number[];
  idleMs: number;
  /** deliveries per second offered to the big room (messages/s = this / members) */
  bigRate: number;
  bigMs: number;
  deadline: number;
}

async function withSubject(name: SubjectName, what: string, body: (s: Subject) => Promise<void>): Promise<void> {
  let subject: Subject;
  try {
    subject = await startSubject(name);
  } catch (err) {
    console.log(`  ${what} ${name}: not started (${(err as Error).message}); its rows stay empty`);
    return;
  }
  try {
    await body(subject);
  } catch (err) {
    console.log(`  ${what} ${name}: stopped (${(err as Error).message})`);
  } finally {
    await subject.stop();
  }
}

const push = (results: Results, scenario: string, subject: string, m: Record<string, number>) =>
  ((results[scenario] ??= {})[subject] ??= []).push(m);

export async function scaleScenarios(results: Results, subjects: SubjectName[], plan: ScalePlan): Promise<void> {
  const max = Math.max(...plan.scale);
  for (const name of subjects) {
    await withSubject(name, 'scale', async (subject) => {
      await subject.layout(max / 10, 10); // chatapi: users, tokens and rooms for the largest size, once
      for (let r = 0; r < plan.runs; r++) {
        for (const n of plan.scale) {
          if (Date.now() > plan.deadline) return;
          await subject.restart(); // a fresh process: memory and idle CPU of these connections only
          const run = new FanoutRun(await subject.layout(max / 10, 10), n / 10, 10, 1);
          try {
            const c = await run.connect();
            const idleCpuPct = await run.idleCpu(plan.idleMs);
            const m = { connectMs: c.connectMs, connectCpuUs: c.cpuUsPerConn, bytesPerConn: c.bytesPerConn, idleCpuPct, closes: run.unexpectedCloses };
            push(results, `scale ${n}`, name, m);
            console.log(`  scale ${n} ${name}: connect ${Math.round(c.connectMs)} ms (${Math.round(c.cpuUsPerConn)} µs CPU/conn), ${Math.round(c.bytesPerConn)} B/conn, ` +
              `idle CPU ${idleCpuPct.toFixed(1)}%${m.closes ? `, ${m.closes} closed by the server` : ''}`);
          } finally {
            await run.close();
          }
        }
      }
    });
  }
}

export async function bigRoomScenarios(results: Results, subjects: SubjectName[], plan: ScalePlan): Promise<void> {
  for (const name of subjects) {
    await withSubject(name, 'big', async (subject) => {
      for (let r = 0; r < plan.runs; r++) {
        for (const n of plan.big) {
          if (Date.now() > plan.deadline) return;
          await subject.layout(1, n); // chatapi: the room and its members exist before the fresh process starts
          await subject.restart();
          const run = new FanoutRun(await subject.layout(1, n), 1, n, 1);
          try {
            const c = await run.connect();
            const off = await run.offer(plan.bigRate, plan.bigMs);
            const m = {
              connectMs: c.connectMs, connectCpuUs: c.cpuUsPerConn, bytesPerConn: c.bytesPerConn, p50: off.p50, p99: off.p99, cpuUs: off.cpuUsPerDelivery,
              lost: off.lost + off.gaps, errors: run.errorFrames, closes: run.unexpectedCloses,
            };
            push(results, `big ${n}`, name, m);
            console.log(`  big 1x${n} ${name}: connect ${Math.round(c.connectMs)} ms (${Math.round(c.cpuUsPerConn)} µs CPU/conn), ${Math.round(c.bytesPerConn)} B/conn, ` +
              `${(plan.bigRate / run.perMessage).toFixed(1)} msg/s: p50 ${off.p50.toFixed(1)} ms p99 ${off.p99.toFixed(1)} ms, ${off.cpuUsPerDelivery.toFixed(2)} µs CPU/delivery, lost ${m.lost}` +
              `${m.errors ? `, ${m.errors} error frames (first: ${run.firstError})` : ''}${m.closes ? `, ${m.closes} closed by the server` : ''}`);
          } finally {
            await run.close();
          }
        }
      }
    });
  }
}

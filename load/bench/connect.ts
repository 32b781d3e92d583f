/**
 * Connect cost alone (issue 12): server CPU and memory per connection while N clients connect,
 * authenticate and finish their first sync, on a fresh process (layout made first, then restart).
 *
 *   tsx load/bench/connect.ts [--rooms 1] [--size 3000] [--subjects chatapi,uws-raw] [--runs 1]
 *
 * With CHATAPI_CPU_PROF=<dir> the chatapi child's profile covers (nearly) only the connects.
 * Prints connect ms, server CPU µs per connection (from /proc/<pid>/stat) and B/conn (RSS growth).
 */
import { parseArgs } from 'node:util';
import { procStat, threadSched } from '../lib/processes.ts';
import { FanoutRun } from './fanout.ts';
import { type SubjectName, startSubject } from './subjects.ts';

const { values: args } = parseArgs({
  options: { rooms: { type: 'string' }, size: { type: 'string' }, subjects: { type: 'string' }, runs: { type: 'string' } },
});
const rooms = Number(args.rooms ?? 1);
const size = Number(args.size ?? 3000);
const runs = Number(args.runs ?? 1);
const names = (args.subjects?.split(',') ?? ['chatapi', 'uws-raw']) as SubjectName[];

for (const name of names) {
  const subject = await startSubject(name);
  try {
    await subject.layout(rooms, size); // set-up (users, tokens, rooms) before the fresh process
    for (let r = 0; r < runs; r++) {
      await subject.restart();
      const target = await subject.layout(rooms, size);
      const cpuBefore = procStat(target.pid).cpuMs;
      const mainBefore = threadSched(target.pid);
      const run = new FanoutRun(target, rooms, size, 1);
      try {
        const c = await run.connect();
        const cpuMs = procStat(target.pid).cpuMs - cpuBefore; // includes the 500 ms settle (idle)
        const main = threadSched(target.pid);
        const onCore = (main.runMs - mainBefore.runMs) / c.connectMs; // the settle's idle 500 ms are not in connectMs
        console.log(`${rooms}x${size} ${name}: connect ${Math.round(c.connectMs)} ms, ` +
          `server CPU ${Math.round((cpuMs * 1000) / c.count)} µs/conn (main thread on a core ${Math.round(100 * onCore)}% of the connect time), ${Math.round(c.bytesPerConn)} B/conn`);
      } finally {
        await run.close();
      }
    }
  } finally {
    await subject.stop();
  }
}

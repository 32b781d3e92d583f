/**
 * Where a subject's CPU goes at an offered rate (issue 12's "@100k/s" goals), one subject at a time,
 * so a profiler can be attached to its server for just that phase: connects `--rooms` × `--size`
 * members, warms up, then prints `MEASURING pid=<server pid> seconds=<n>` and offers `--rate`
 * deliveries/s for `--seconds`, and prints the server's CPU µs per delivery, p50/p99 and loss.
 *
 *   node --import tsx load/bench/offered-cpu.ts --subject uws-raw [--rooms 500] [--size 10] [--rate 100000] [--seconds 8]
 *
 * It also prints `WINDOW FROM=<µs> TO=<µs>`, the measured phase on the clock of a V8 .cpuprofile, so a
 * profile taken with CHATAPI_CPU_PROF can be cut to it.
 *
 * With perf (what load/README § "Issue 12, fourth round" shows):
 *   node --import tsx load/bench/offered-cpu.ts --subject chatapi > /tmp/o.log &
 *   until grep -q MEASURING /tmp/o.log; do sleep 0.2; done
 *   perf record -e cpu-clock -p $(grep -o 'pid=[0-9]*' /tmp/o.log | cut -d= -f2) -o /tmp/perf.data -- sleep 6
 *   perf report -i /tmp/perf.data --sort dso
 */
import { parseArgs } from 'node:util';
import { FanoutRun } from './fanout.ts';
import { type SubjectName, SUBJECTS, startSubject } from './subjects.ts';

const { values: a } = parseArgs({
  options: {
    subject: { type: 'string', default: 'chatapi' },
    rooms: { type: 'string', default: '500' },
    size: { type: 'string', default: '10' },
    rate: { type: 'string', default: '100000' },
    seconds: { type: 'string', default: '8' },
  },
});
const name = a.subject as SubjectName;
if (!SUBJECTS.includes(name)) throw new Error(`--subject: one of ${SUBJECTS.join(', ')}`);
const rooms = Number(a.rooms);
const size = Number(a.size);
/** The monotonic clock of a V8 .cpuprofile's timestamps (µs): WINDOW cuts a CHATAPI_CPU_PROF profile to the measured phase. */
const us = () => Number(process.hrtime.bigint() / 1000n);

const subject = await startSubject(name);
try {
  const run = new FanoutRun(await subject.layout(rooms, size), rooms, size);
  try {
    const c = await run.connect();
    console.log(`${name} ${rooms}x${size}: ${c.count} connected in ${Math.round(c.connectMs)} ms`);
    await run.offer(Number(a.rate) / 4, 1000); // warm-up at a quarter of the rate
    console.log(`MEASURING pid=${run.target.pid} seconds=${a.seconds}`);
    const from = us();
    const r = await run.offer(Number(a.rate), Number(a.seconds) * 1000);
    console.log(`WINDOW FROM=${from} TO=${us()}`);
    console.log(`${name}: ${Math.round(r.deliveriesPerSec)} deliveries/s offered ${a.rate}${r.heldOffered ? '' : ' (NOT held)'}, ` +
      `CPU ${r.cpuUsPerDelivery.toFixed(2)} µs/delivery, server CPU ${r.serverCpuUtil.toFixed(2)}, client CPU ${r.clientCpuUtil.toFixed(2)}, ` +
      `p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms, lost ${r.lost + r.gaps}`);
  } finally {
    await run.close();
  }
} finally {
  await subject.stop();
}

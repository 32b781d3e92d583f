/**
 * The CPU cost of one durable `message.send` on the WebSocket node, measured alone (issue 12):
 * one chatapi node (SQLite), `--rooms` × `--size` members, each room's first member keeping
 * `--window` sends in flight, for `--rounds` saturated rounds of `--seconds`. Prints per round the
 * deliveries/s, messages/s and the server's CPU µs per delivery and per message (/proc/<pid>/stat),
 * and the monotonic window of the measured phase (µs, same clock as a V8 .cpuprofile's timestamps)
 * so a profile taken with CHATAPI_CPU_PROF can be cut to just the sends.
 *
 * `--subject` runs the same rounds on another subject of make bench (uws-raw, uws-durable …), so
 * node-side counters (perf stat on its pid) can be compared under the same load.
 *
 * With CHATAPI_HEAP_SAMPLE=<dir> the server's allocations over the measured rounds are sampled
 * (load/lib/heap-sample.cjs, garbage included): prints the bytes allocated per message and the
 * profile's file, which load/bench/heap-summary.ts breaks down by function.
 *
 *   node --import tsx load/bench/ws-send-cpu.ts [--rooms 50] [--size 10] [--senders 1] [--window 4] [--seconds 3] [--rounds 3] [--subject chatapi]
 */
import { parseArgs } from 'node:util';
import { FanoutRun } from './fanout.ts';
import { SUBJECTS, type SubjectName, startSubject } from './subjects.ts';

const { values: a } = parseArgs({
  options: {
    rooms: { type: 'string', default: '50' },
    size: { type: 'string', default: '10' },
    senders: { type: 'string', default: '1' },
    window: { type: 'string', default: '4' },
    seconds: { type: 'string', default: '3' },
    rounds: { type: 'string', default: '3' },
    subject: { type: 'string', default: 'chatapi' },
  },
});
const rooms = Number(a.rooms);
const size = Number(a.size);
const senders = Number(a.senders);
const us = () => Number(process.hrtime.bigint() / 1000n);
const pct = (x: number) => `${Math.round(100 * x)}%`;

if (!SUBJECTS.includes(a.subject as SubjectName)) throw new Error(`--subject: one of ${SUBJECTS.join(', ')}`);
const subject = await startSubject(a.subject as SubjectName);
try {
  const run = new FanoutRun(await subject.layout(rooms, size), rooms, size, senders);
  try {
    const c = await run.connect();
    console.log(`${rooms}x${size}: ${c.count} connected in ${Math.round(c.connectMs)} ms`);
    const from = us();
    const rows: { dps: number; cpu: number }[] = [];
    const deliveredBefore = run.delivered;
    await subject.server.heapSample?.(true);
    for (let r = 0; r < Number(a.rounds); r++) {
      const s = await run.saturate(Number(a.window), 500, Number(a.seconds) * 1000);
      rows.push({ dps: s.deliveriesPerSec, cpu: s.cpuUsPerDelivery });
      console.log(`round ${r + 1}: ${Math.round(s.deliveriesPerSec)} deliveries/s, ${Math.round(s.deliveriesPerSec / size)} msgs/s, ` +
        `CPU ${s.cpuUsPerDelivery.toFixed(2)} µs/delivery = ${(s.cpuUsPerDelivery * size).toFixed(0)} µs/message, ` +
        `server CPU ${s.serverCpuUtil.toFixed(2)} (main thread on a core ${pct(s.mainThread.run)}, waiting for one ${pct(s.mainThread.wait)}), client CPU ${s.clientCpuUtil.toFixed(2)}, p50 ${s.p50.toFixed(1)} ms, p99 ${s.p99.toFixed(1)} ms` +
        `${run.errorFrames ? `, ${run.errorFrames} error frames (${run.firstError})` : ''}`);
    }
    const med = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
    console.log(`median: ${Math.round(med(rows.map((r) => r.dps)))} deliveries/s, CPU ${med(rows.map((r) => r.cpu)).toFixed(2)} µs/delivery`);
    console.log(`WINDOW FROM=${from} TO=${us()}`);
    const sampled = await subject.server.heapSample?.(false);
    const messages = (run.delivered - deliveredBefore) / size; // every round drains: each message sent meanwhile was delivered
    if (sampled) console.log(`allocated ${Math.round(sampled.bytes / messages)} bytes per message (${(sampled.bytes / 1e6).toFixed(0)} MB sampled over ~${Math.round(messages)} messages): ${sampled.file}`);
  } finally {
    await run.close();
  }
} finally {
  await subject.stop();
}

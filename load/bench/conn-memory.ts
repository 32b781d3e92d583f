/**
 * Where a connection's memory goes (issue 12): V8 heap snapshots of a fresh chatapi node before and
 * after N clients connect, authenticate and sync; prints the JS heap growth per connection by
 * constructor (shallow sizes of live objects). Set beside `make bench`'s B/conn (RSS growth, taken
 * without snapshots: a snapshot's own garbage would be reused by the connections), it tells the
 * part held by JS objects from uWS's native buffers and the allocator.
 *
 *   tsx load/bench/conn-memory.ts [--rooms 300] [--size 10] [--top 25] [--dir /tmp]
 */
import { readFileSync, readdirSync, rmSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { parseArgs } from 'node:util';
import { FanoutRun } from './fanout.ts';
import { startSubject } from './subjects.ts';

const { values: args } = parseArgs({ options: { rooms: { type: 'string' }, size: { type: 'string' }, top: { type: 'string' }, dir: { type: 'string' } } });
const rooms = Number(args.rooms ?? 300);
const size = Number(args.size ?? 10);
const top = Number(args.top ?? 25);
const dir = mkdtempSync(join(args.dir ?? tmpdir(), 'chatapi-heap-'));

/** Shallow bytes and counts per "type:name" in a .heapsnapshot. */
function census(file: string): Map<string, { bytes: number; count: number }> {
  const snap = JSON.parse(readFileSync(file, 'utf8')) as { snapshot: { meta: { node_fields: string[]; node_types: [string[]] } }; nodes: number[]; strings: string[] };
  const f = snap.snapshot.meta.node_fields;
  const [typeAt, nameAt, sizeAt] = [f.indexOf('type'), f.indexOf('name'), f.indexOf('self_size')];
  const types = snap.snapshot.meta.node_types[0];
  const out = new Map<string, { bytes: number; count: number }>();
  for (let i = 0; i < snap.nodes.length; i += f.length) {
    const type = types[snap.nodes[i + typeAt]!]!;
    const name = type === 'object' || type === 'closure' || type === 'native' ? snap.strings[snap.nodes[i + nameAt]!]! : `(${type})`;
    const key = `${type}:${name.slice(0, 60)}`;
    const e = out.get(key) ?? { bytes: 0, count: 0 };
    e.bytes += snap.nodes[i + sizeAt]!;
    e.count += 1;
    out.set(key, e);
  }
  return out;
}

async function snapshot(pid: number, label: string): Promise<string> {
  const before = new Set(readdirSync(dir));
  process.kill(pid, 'SIGUSR2'); // --heapsnapshot-signal: the child writes Heap…heapsnapshot into `dir`
  for (;;) {
    await new Promise((r) => setTimeout(r, 200));
    const fresh = readdirSync(dir).filter((n) => n.endsWith('.heapsnapshot') && !before.has(n));
    if (fresh.length) {
      const file = join(dir, fresh[0]!);
      while (!readFileSync(file).subarray(-4).toString().trimEnd().endsWith('}')) await new Promise((r) => setTimeout(r, 300)); // written out
      console.log(`  snapshot ${label}: ${file}`);
      return file;
    }
  }
}

// children inherit it: SIGUSR2 makes them write a heap snapshot into `dir`
process.env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ''} --heapsnapshot-signal=SIGUSR2 --diagnostic-dir=${dir}`.trim();
const subject = await startSubject('chatapi');
try {
  await subject.layout(rooms, size);
  await subject.restart();
  const target = await subject.layout(rooms, size);
  const file0 = await snapshot(target.pid, 'before');
  const run = new FanoutRun(target, rooms, size, 1);
  try {
    const c = await run.connect();
    const file1 = await snapshot(target.pid, `after ${c.count} connections`);
    const [a, b] = [census(file0), census(file1)];
    const rows = [...b].map(([k, v]) => ({ k, bytes: v.bytes - (a.get(k)?.bytes ?? 0), count: v.count - (a.get(k)?.count ?? 0) }))
      .sort((x, y) => y.bytes - x.bytes);
    const heap = rows.reduce((s, r) => s + r.bytes, 0);
    console.log(`\n${c.count} connections: JS heap (shallow, live objects) +${Math.round(heap / c.count)} B/conn\n`);
    console.log(`${'B/conn'.padStart(8)} ${'objs/conn'.padStart(10)}  type:constructor`);
    for (const r of rows.slice(0, top)) console.log(`${(r.bytes / c.count).toFixed(0).padStart(8)} ${(r.count / c.count).toFixed(2).padStart(10)}  ${r.k}`);
  } finally {
    await run.close();
  }
} finally {
  await subject.stop();
  rmSync(dir, { recursive: true, force: true });
}

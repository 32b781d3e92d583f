/**
 * Where a connection's memory goes (issue 12). Two parts:
 *
 * 1. RSS and V8 heap growth per connection, read the same way for every subject (a preloaded probe,
 *    servers/mem-probe.cjs, answers over IPC): once as `make bench` reads it (RSS before, RSS 500 ms
 *    after the last connect, no GC), and once with a full GC before both readings, which leaves out
 *    garbage of the connect burst that the heap has not collected yet, and splits the growth into
 *    live JS heap, V8 heap reserve (heapTotal − heapUsed), and the rest (uWS, malloc).
 * 2. For chatapi, V8 heap snapshots of a fresh node before and after N clients connect, authenticate
 *    and sync; prints the JS heap growth per connection by constructor (shallow sizes of live
 *    objects), and by retainer (which property of which object holds it).
 *
 *   tsx load/bench/conn-memory.ts [--rooms 300] [--size 10] [--top 25] [--subjects chatapi,uws-raw]
 *     [--no-snapshots] [--no-rss] [--keep] [--dir /tmp]
 */
import { readFileSync, readdirSync, rmSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { FanoutRun } from './fanout.ts';
import { type Subject, type SubjectName, startSubject } from './subjects.ts';

const { values: args } = parseArgs({
  options: {
    rooms: { type: 'string' }, size: { type: 'string' }, top: { type: 'string' }, dir: { type: 'string' }, keep: { type: 'boolean' },
    subjects: { type: 'string' }, 'no-snapshots': { type: 'boolean' }, 'no-rss': { type: 'boolean' },
  },
});
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

/** Bytes per connection by "type:name  <-  retainer.edge" for the objects `after` has and `before` had not (ids are stable across snapshots of one process). */
function retainers(before: string, after: string): Map<string, { bytes: number; count: number }> {
  type Snap = { snapshot: { meta: { node_fields: string[]; node_types: [string[]]; edge_fields: string[]; edge_types: [string[]] } }; nodes: number[]; edges: number[]; strings: string[] };
  const b = JSON.parse(readFileSync(before, 'utf8')) as Snap;
  const old = new Set<number>();
  const bf = b.snapshot.meta.node_fields.length;
  for (let i = 2; i < b.nodes.length; i += bf) old.add(b.nodes[i]!);
  const s = JSON.parse(readFileSync(after, 'utf8')) as Snap;
  const { node_fields, node_types, edge_fields, edge_types } = s.snapshot.meta;
  const [nf, ef, types, etypes] = [node_fields.length, edge_fields.length, node_types[0], edge_types[0]];
  const n = s.nodes.length / nf;
  const name = (i: number) => {
    const t = types[s.nodes[i * nf]!]!;
    return t === 'object' || t === 'closure' || t === 'native' ? s.strings[s.nodes[i * nf + 1]!]!.slice(0, 40) || `(${t})` : `(${t})`;
  };
  const parent = new Int32Array(n).fill(-1);
  const via = new Int32Array(n).fill(-1);
  for (let i = 0, e = 0; i < n; i++) {
    for (const end = e + s.nodes[i * nf + 4]! * ef; e < end; e += ef) {
      const et = etypes[s.edges[e]!];
      if (et === 'weak' || et === 'shortcut') continue;
      const to = s.edges[e + 2]! / nf;
      if (parent[to] === -1) [parent[to], via[to]] = [i, e];
    }
  }
  const edgeName = (e: number) => {
    const et = etypes[s.edges[e]!];
    return et === 'element' || et === 'hidden' ? `[${et}]` : String(s.strings[s.edges[e + 1]!]).slice(0, 30);
  };
  const out = new Map<string, { bytes: number; count: number }>();
  for (let i = 0; i < n; i++) {
    if (old.has(s.nodes[i * nf + 2]!) || types[s.nodes[i * nf]!] === 'code') continue;
    const key = `${name(i)}  <-  ${parent[i]! >= 0 ? `${name(parent[i]!)}.${edgeName(via[i]!)}` : '?'}`;
    const e = out.get(key) ?? { bytes: 0, count: 0 };
    e.bytes += s.nodes[i * nf + 3]!;
    e.count += 1;
    out.set(key, e);
  }
  return out;
}

type Mem = { rss: number; heapTotal: number; heapUsed: number; external: number; arrayBuffers: number; newSpace: number };

/** The child's memory figures (servers/mem-probe.cjs), after a full GC when `gc`. */
function mem(subject: Subject, gc: boolean): Promise<Mem> {
  const child = subject.server.child;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${subject.name}: no memory figures (mem-probe.cjs not loaded?)`)), 10_000);
    const on = (m: { type?: string } & Mem) => {
      if (m?.type !== 'mem') return;
      clearTimeout(timer);
      child.off('message', on);
      resolve(m);
    };
    child.on('message', on);
    child.send({ type: 'mem', gc });
  });
}

/** RSS by kind of mapping (/proc/<pid>/smaps): malloc's brk heap, anonymous maps (V8 pages, malloc arenas, uWS), files. */
function smaps(pid: number): { brk: number; anon: number; file: number } {
  const out = { brk: 0, anon: 0, file: 0 };
  let kind: keyof typeof out = 'anon';
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const head = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \d+\s*(.*)$/.exec(line);
    if (head) kind = head[1] === '[heap]' ? 'brk' : head[1] === '' || head[1]!.startsWith('[') ? 'anon' : 'file';
    else if (line.startsWith('Rss:')) out[kind] += Number(/(\d+)/.exec(line)![1]) * 1024;
  }
  return out;
}

const kb = (bytes: number, count: number) => Math.round(bytes / count).toLocaleString('en-US').padStart(7);

async function rssPart(names: SubjectName[]): Promise<void> {
  console.log(`\nB/conn, ${rooms} rooms × ${size} (fresh process per subject and mode; "GC'd": a full GC before every reading;` +
    `\n"2nd batch": ${rooms * size} more clients connected after the first ${rooms * size}, which leaves out one-off costs: compiled code,` +
    `\ncaches filling up, the V8 young generation growing)\n`);
  console.log(`${'subject'.padEnd(28)}${'RSS'.padStart(8)}${'heapUsed'.padStart(9)}${'heapTotal'.padStart(10)}${'new space'.padStart(10)}${'external'.padStart(9)}` +
    `${'RSS−heapT'.padStart(10)}${'brk'.padStart(8)}${'anon'.padStart(8)}${'file'.padStart(8)}  connect`);
  for (const name of names) {
    const subject = await startSubject(name);
    try {
      await subject.layout(2 * rooms, size);
      for (const gc of [false, true]) {
        await subject.restart();
        const target = await subject.layout(2 * rooms, size);
        const second: typeof target = { ...target, member: (room, index) => target.member(room + rooms, index) };
        const runs: FanoutRun[] = [];
        try {
          for (const [batch, t] of [['', target], [' 2nd batch', second]] as const) {
            const a = await mem(subject, gc);
            const sa = smaps(target.pid);
            const run = new FanoutRun(t, rooms, size, 1);
            runs.push(run);
            const c = await run.connect(); // waits 500 ms after the last connect, as the bench does
            const b = await mem(subject, gc);
            const sb = smaps(target.pid);
            const d = (k: keyof Mem) => kb(b[k] - a[k], c.count);
            console.log(`${`${name}${gc ? " GC'd" : ' as bench'}${batch}`.padEnd(28)}${d('rss').padStart(8)}${d('heapUsed').padStart(9)}${d('heapTotal').padStart(10)}` +
              `${d('newSpace').padStart(10)}${d('external').padStart(9)}${kb(b.rss - b.heapTotal - (a.rss - a.heapTotal), c.count).padStart(10)}` +
              `${kb(sb.brk - sa.brk, c.count).padStart(8)}${kb(sb.anon - sa.anon, c.count).padStart(8)}${kb(sb.file - sa.file, c.count).padStart(8)}  ` +
              `${Math.round(c.connectMs)} ms, ${Math.round(c.cpuUsPerConn)} µs CPU/conn`);
          }
        } finally {
          for (const run of runs) await run.close();
        }
      }
    } finally {
      await subject.stop();
    }
  }
}

async function snapshotPart(): Promise<void> {
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
      const code = rows.filter((r) => r.k.startsWith('code:')).reduce((s, r) => s + r.bytes, 0);
      console.log(`\n${c.count} connections: JS heap (shallow, live objects) +${Math.round(heap / c.count)} B/conn, of which compiled code ${Math.round(code / c.count)} (not per connection)\n`);
      console.log(`${'B/conn'.padStart(8)} ${'objs/conn'.padStart(10)}  type:constructor`);
      for (const r of rows.slice(0, top)) console.log(`${(r.bytes / c.count).toFixed(0).padStart(8)} ${(r.count / c.count).toFixed(2).padStart(10)}  ${r.k}`);
      const held = [...retainers(file0, file1)].sort((x, y) => y[1].bytes - x[1].bytes);
      const total = held.reduce((s, [, v]) => s + v.bytes, 0);
      console.log(`\nnew objects other than code: ${Math.round(total / c.count)} B/conn, by what holds them (first strong retainer)\n`);
      console.log(`${'B/conn'.padStart(8)} ${'objs/conn'.padStart(10)}  type:constructor  <-  retainer.property`);
      for (const [k, v] of held.slice(0, top)) console.log(`${(v.bytes / c.count).toFixed(0).padStart(8)} ${(v.count / c.count).toFixed(2).padStart(10)}  ${k}`);
    } finally {
      await run.close();
    }
  } finally {
    await subject.stop();
  }
}

// children inherit it: the memory probe answers over IPC; SIGUSR2 makes them write a heap snapshot into `dir`
const probe = fileURLToPath(new URL('./servers/mem-probe.cjs', import.meta.url));
process.env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ''} --require ${probe} --heapsnapshot-signal=SIGUSR2 --diagnostic-dir=${dir}`.trim();
try {
  if (!args['no-rss']) await rssPart((args.subjects?.split(',') ?? ['chatapi', 'uws-raw']) as SubjectName[]);
  if (!args['no-snapshots']) await snapshotPart();
} finally {
  if (!args.keep) rmSync(dir, { recursive: true, force: true });
}

/**
 * The node's CPU for building one MySQL send batch, without a database: the locking reads' text
 * (readStatements), the plan from canned read results (planBatch), the write script (writeScript)
 * and mysql2's format of both (what the driver does before writing them to the socket). Prints
 * CPU µs per send for a batch of --batch sends into --rooms rooms, with or without the outbox
 * event each send writes (--outbox). Takes turns with --before DIR (a checkout of another commit,
 * e.g. `git worktree add /tmp/base <commit>`) to compare the two in the same minutes.
 *
 *   node --import tsx load/bench/mysql-batch-build.ts [--batch 20] [--rooms 20] [--outbox] [--before DIR] [--turns 3]
 */
import { parseArgs } from 'node:util';
import { resolve } from 'node:path';
import mysql from 'mysql2';

const { values: args } = parseArgs({
  options: {
    batch: { type: 'string', default: '20' },
    rooms: { type: 'string', default: '20' },
    outbox: { type: 'boolean', default: false },
    before: { type: 'string' },
    turns: { type: 'string', default: '3' },
  },
});
const BATCH = Number(args.batch);
const ROOMS = Number(args.rooms);
const TENANT = '0b7e4c1a-55c2-4f57-9a53-2f4d1f0c6a10';
type Values = Parameters<typeof mysql.format>[1];
const roomIds = Array.from({ length: ROOMS }, (_, i) => `${String(i).padStart(8, '0')}-042c-4d57-af88-57ecc6a0ad42`);

interface Subject {
  name: string;
  once(): number;
}

async function subject(name: string, root: string): Promise<Subject> {
  const batchMod = await import(resolve(root, 'src/store/mysql-batch.ts'));
  let k = 0;
  const batchOf = () => Array.from({ length: BATCH }, (_, i) => ({
    msg: {
      id: `01a22d18-48ca-760a-9209-${String(k).padStart(12, '0')}`, tenant_id: TENANT, room_id: roomIds[i % ROOMS]!, sender_id: `u${i}`,
      content: `hello ${k}`, meta: null, client_msg_id: `k${k++}`, body_hash: 'e7b613ebceca6628c972b4533ca246ab14743dc322876121066f00d0f27c81b4',
      edited_at: null, deleted_at: null,
    },
    now: () => 1_796_052_896_002,
    events: args.outbox
      ? (row: { tenant_id: string; room_id: string }) => [{ type: 'message.created', tenant_id: row.tenant_id, room_id: row.room_id, message: row }]
      : undefined,
  }));
  const reads = {
    rooms: roomIds.map((id) => ({ id, tenant_id: TENANT, last_seq: 100, slow_mode_seconds: 0 })),
    members: Array.from({ length: BATCH }, (_, i) => ({ tenant_id: TENANT, room_id: roomIds[i % ROOMS]!, user_id: `u${i}`, muted_until: null })),
    usedKeys: [],
  };
  return {
    name,
    once() {
      const batch = batchOf();
      const statements = batchMod.readStatements(batch, false) as { sql: string; bindings: unknown[] }[];
      let bytes = mysql.format(statements.map((s) => s.sql).join(';\n'), statements.flatMap((s) => s.bindings) as Values).length;
      const plan = batchMod.planBatch(batch, reads, 1_796_052_896_002);
      const writes = batchMod.writeScript(plan) as { sql: string; bindings: unknown[] };
      bytes += mysql.format(writes.sql, writes.bindings as Values).length;
      return bytes;
    },
  };
}

function cpuPerSend(s: Subject, batches: number): number {
  let sink = 0;
  const c0 = process.cpuUsage();
  for (let i = 0; i < batches; i++) sink += s.once();
  const c = process.cpuUsage(c0);
  if (sink === 0) throw new Error('nothing built');
  return (c.user + c.system) / batches / BATCH;
}

const subjects = [await subject('this checkout', resolve(import.meta.dirname, '../..'))];
if (args.before) subjects.unshift(await subject(`before (${args.before})`, args.before));
for (const s of subjects) cpuPerSend(s, 2000); // warm up (JIT)
const batches = Math.max(200, Math.round(400_000 / BATCH));
const results = new Map<string, number[]>(subjects.map((s) => [s.name, []]));
for (let t = 0; t < Number(args.turns); t++) for (const s of subjects) results.get(s.name)!.push(cpuPerSend(s, batches));
console.log(`MySQL send batch built in node: ${BATCH} sends per batch, ${ROOMS} rooms, outbox ${args.outbox ? 'on' : 'off'}; CPU µs per send, ${args.turns} turns`);
for (const [name, v] of results) console.log(`${name.padEnd(40)} ${v.map((x) => x.toFixed(2)).join('  ')}   median ${[...v].sort((a, b) => a - b)[v.length >> 1]!.toFixed(2)}`);

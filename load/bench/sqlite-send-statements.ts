/**
 * What each statement of a SQLite send batch costs, per send (issue 12): the batch transaction of
 * src/store/sqlite-append.ts run by hand on the raw connection of a fresh file, timed statement by
 * statement (wall time of synchronous calls on this thread = their CPU plus any WAL write), COMMIT
 * with synchronous=NORMAL as the send path does (its WAL sync runs off the loop). Optionally also
 * without one index of `messages` (or the rooms-by-activity index) at a time (--without-indexes), to show what each B-tree costs.
 *
 * Variants take turns, --repeat times, and the medians are printed (a shared machine is noisy).
 *
 * `--run N`: each room takes N consecutive sends of one sender (a connection's pipelined sends), and
 * a second variant takes their seqs with one UPDATE per run as the send path does (the first, one
 * per send, is how it was before).
 *
 *   node --import tsx load/bench/sqlite-send-statements.ts [--batches 400] [--size 20] [--rooms 20] [--run 1] [--repeat 3] [--cache-kib N] [--page-size N] [--outbox] [--without-indexes]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createDomain, type Caller } from '../../src/domain/index.ts';
import { closeDatabase, migrate, openDatabase } from '../../src/store/db.ts';
import { uuidv7 } from '../../src/store/ordered-id.ts';
import { GATE_SQL, OUTBOX_INSERT_SQL, outboxParams, outboxRow } from '../../src/store/outbox.ts';
import { BUMP, INSERT } from '../../src/store/sqlite-append.ts';

const { values: args } = parseArgs({
  options: {
    batches: { type: 'string', default: '400' },
    size: { type: 'string', default: '20' },
    repeat: { type: 'string', default: '3' },
    rooms: { type: 'string', default: '20' },
    run: { type: 'string', default: '1' }, // consecutive sends per room (one sender's pipelined sends)
    'page-size': { type: 'string' }, // PRAGMA page_size of the fresh file (default: SQLite's 4,096)
    'cache-kib': { type: 'string' }, // PRAGMA cache_size = -N on the send connection (default: SQLite's 2,000 KiB)
    outbox: { type: 'boolean', default: false }, // write an outbox row per send (a tenant with an endpoint)
    'without-indexes': { type: 'boolean', default: false },
  },
});
const BATCHES = Number(args.batches);
const SIZE = Number(args.size);
const ROOMS = Number(args.rooms);
const RUN = Number(args.run);

interface Stmt { run(...p: unknown[]): unknown; get(...p: unknown[]): unknown; all(...p: unknown[]): unknown[] }
interface Raw { prepare(sql: string): Stmt; pragma(s: string): unknown }

async function run(dropIndex?: string, bumpPerRun = false): Promise<Record<string, number>> {
  const dir = await mkdtemp(join(tmpdir(), 'chatapi-stmts-'));
  if (args['page-size']) {
    const Database = createRequire(import.meta.url)('better-sqlite3') as new (file: string) => { pragma(s: string): unknown; close(): void };
    const pre = new Database(join(dir, 'b.db'));
    pre.pragma(`page_size = ${Number(args['page-size'])}`);
    pre.pragma('journal_mode = WAL');
    pre.close();
  }
  const db = await openDatabase(`sqlite:${join(dir, 'b.db')}`);
  try {
    await migrate(db);
    const domain = createDomain({ db, bus: { publish() {} }, config: { jwtIssuer: 'b', rateLimitPerSecond: 1e9, rateLimitBurst: 1e9 }, log: { warn() {}, error() {} } });
    const { tenant } = await domain.tenants.create({ name: 'b' });
    const caller: Caller = { kind: 'tenant', tenantId: tenant.id };
    for (let i = 0; i < ROOMS; i++) await domain.users.create(caller, { id: `u${i}`, username: `u${i}` });
    const rooms: string[] = [];
    for (let i = 0; i < ROOMS; i++) {
      const user = await domain.users.get(caller, `u${i}`);
      rooms.push((await domain.rooms.create({ kind: 'user', tenantId: tenant.id, user, via: 'key' }, { type: 'group', members: [`u${(i + 1) % ROOMS}`] })).room.id);
    }
    if (dropIndex) await db.raw(`DROP INDEX ${dropIndex}`);
    const conn = (await db.client.acquireConnection()) as Raw;
    conn.pragma('synchronous = NORMAL');
    if (args['cache-kib']) conn.pragma(`cache_size = -${Number(args['cache-kib'])}`);
    conn.pragma('wal_autocheckpoint = 0'); // as the send path: checkpoints off its COMMITs (wal-sync.ts), here untimed
    const [bump, insert, outbox, gate] = [BUMP, INSERT, OUTBOX_INSERT_SQL, GATE_SQL].map((s) => conn.prepare(s));
    const t = { begin: 0n, gate: 0n, bump: 0n, insert: 0n, outbox: 0n, commit: 0n };
    const clock = process.hrtime.bigint;
    let k = 0;
    let seq = 0;
    for (let b = 0; b < BATCHES + 20; b++) {
      const warm = b < 20;
      let t0 = clock();
      conn.prepare('BEGIN IMMEDIATE').run();
      let t1 = clock();
      if (!warm) t.begin += t1 - t0;
      gate.all(tenant.id);
      t0 = clock();
      if (!warm) t.gate += t0 - t1;
      for (let i = 0; i < SIZE; i++, k++) {
        const r = Math.floor(k / RUN) % ROOMS;
        const inRun = k % RUN;
        const now = Date.now();
        t0 = clock();
        // One UPDATE per send, or (bumpPerRun) one per run taking the run's seqs (sqlite-append.ts storeRuns)
        const k0 = bumpPerRun ? Math.min(RUN - inRun, SIZE - i) : 1; // the rest of the run, within this batch
        if (!bumpPerRun || inRun === 0 || i === 0) seq = (bump.get(k0, now, tenant.id, rooms[r], 0, rooms[r], `u${r}`, tenant.id, now) as { last_seq: number }).last_seq - k0;
        seq += 1;
        t1 = clock();
        insert.run(uuidv7(), tenant.id, rooms[r], seq, `u${r}`, `hello ${k}`, null, `k${k}`, 'f'.repeat(64), now, null, null);
        const t2 = clock();
        if (args.outbox) outbox.run(...outboxParams(outboxRow({ type: 'message.created', tenant_id: tenant.id, room_id: rooms[r], seq } as never, now)));
        const t3 = clock();
        if (!warm) {
          t.bump += t1 - t0;
          t.insert += t2 - t1;
          t.outbox += t3 - t2;
        }
      }
      t0 = clock();
      conn.prepare('COMMIT').run();
      if (!warm) t.commit += clock() - t0;
      if (b % 4 === 3) conn.pragma('wal_checkpoint(PASSIVE)');
    }
    await db.client.releaseConnection(conn);
    const sends = BATCHES * SIZE;
    return Object.fromEntries(Object.entries(t).map(([name, ns]) => [name, Number(ns) / 1e3 / sends]));
  } finally {
    await closeDatabase(db);
    await rm(dir, { recursive: true, force: true });
  }
}

const INDEXES = ['rooms_tenant_activity', 'messages_id_unique', 'messages_room_id_seq_unique', 'messages_room_id_sender_id_client_msg_id_unique', 'messages_tenant_id_pk_index', 'messages_tenant_created'];
const PER_RUN = 'one UPDATE per run';
const variants: (string | undefined)[] = [undefined, ...(RUN > 1 ? [PER_RUN] : []), ...(args['without-indexes'] ? INDEXES : [])];
const cols = ['begin', 'gate', 'bump', 'insert', 'outbox', 'commit'];
console.log(`${BATCHES} batches of ${SIZE} sends into ${ROOMS} rooms, runs of ${RUN}${args.outbox ? ', with an outbox row each' : ''}: µs per send`);
console.log(`${'variant'.padEnd(52)}${cols.map((c) => c.padStart(8)).join('')}${'total'.padStart(8)}`);
const results = new Map<string | undefined, Record<string, number>[]>(variants.map((v) => [v, []]));
for (let i = 0; i < Number(args.repeat); i++) for (const v of variants) results.get(v)!.push(await (v === PER_RUN ? run(undefined, true) : run(v)));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
for (const v of variants) {
  const runs = results.get(v)!;
  const r = Object.fromEntries(cols.map((c) => [c, median(runs.map((x) => x[c]!))]));
  const total = median(runs.map((x) => cols.reduce((a, c) => a + x[c]!, 0)));
  console.log(`${(v === PER_RUN ? PER_RUN : v ? `without ${v}` : 'schema as migrated').padEnd(52)}${cols.map((c) => r[c]!.toFixed(2).padStart(8)).join('')}${total.toFixed(2).padStart(8)}`);
}

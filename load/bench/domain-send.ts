/**
 * Micro-benchmark of the durable send path alone: `domain.messages.send` on a fresh database,
 * no HTTP, no bus (a no-op sink). Times N sends three ways and prints messages/s, wall µs/send
 * and process CPU µs/send:
 *   sequential        one sender after another into one room
 *   20-way, 1 room    20 senders at once into the same room (seq contention)
 *   20-way, 20 rooms  20 senders at once, each into its own room
 * Every send carries a client_msg_id (as REST's Idempotency-Key and WS's message.send do).
 *
 * the mean number of sends per group-commit batch and the median time a batch takes (mostly its
 * COMMIT's log sync: `concurrency / that` is the ceiling of a closed loop). With MYSQL_URL set it runs SQLite and then
 * MySQL/MariaDB (--sqlite or --mysql for one of them), and judges the goal: MySQL ≥ 10,000 sends/s
 * at 20-way across 20 rooms.
 *
 *   node --import tsx load/bench/domain-send.ts [--n 5000] [--concurrency 20] [--synchronous NORMAL] [--only sequential|1room|rooms]
 *     [--db-pid $(pgrep -x mariadbd)]   also the database server's CPU µs/send (a local server; from /proc)
 *   MYSQL_URL=mysql://root@127.0.0.1:3306/test node --import tsx load/bench/domain-send.ts --n 5000
 *
 * SQLite uses a temp file (removed afterwards) with synchronous=FULL unless told otherwise; MySQL a
 * fresh database (dropped afterwards).
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Knex } from 'knex';
import mysql from 'mysql2/promise';
import { createDomain, type Caller, type Domain, type UserCaller } from '../../src/domain/index.ts';
import { onSendBatch } from '../../src/store/batch-stats.ts';
import { closeDatabase, durabilitySettings, migrate, openDatabase } from '../../src/store/db.ts';

const { values: args } = parseArgs({
  options: {
    n: { type: 'string', default: '5000' },
    concurrency: { type: 'string', default: '20' },
    mysql: { type: 'boolean', default: false }, // only MySQL (MYSQL_URL)
    sqlite: { type: 'boolean', default: false }, // only SQLite, even with MYSQL_URL set
    synchronous: { type: 'string', default: 'FULL' }, // SQLite's PRAGMA synchronous: FULL or NORMAL
    only: { type: 'string' }, // one run: sequential | 1room | rooms (e.g. to profile it alone)
    'db-pid': { type: 'string' }, // the local database server's pid (e.g. `pgrep -x mariadbd`): also print its CPU µs/send
  },
});
const N = Number(args.n);
const C = Number(args.concurrency);
const MEMBERS = 10;
const SYNCHRONOUS = args.synchronous.toUpperCase() === 'NORMAL' ? 'NORMAL' : 'FULL';
const MYSQL_GOAL = 10_000;

async function onMysqlServer(base: string, sql: string): Promise<void> {
  const u = new URL(base);
  const conn = await mysql.createConnection({
    host: u.hostname, port: u.port ? Number(u.port) : 3306,
    user: decodeURIComponent(u.username), password: decodeURIComponent(u.password),
  });
  try { await conn.query(sql); } finally { await conn.end(); }
}

async function freshDatabase(useMysql: boolean): Promise<{ url: string; drop(): Promise<void> }> {
  if (useMysql) {
    const base = process.env.MYSQL_URL!;
    const name = `chatapi_bench_${randomBytes(6).toString('hex')}`;
    await onMysqlServer(base, `CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`);
    const u = new URL(base);
    u.pathname = `/${name}`;
    return { url: u.toString(), drop: () => onMysqlServer(base, `DROP DATABASE IF EXISTS \`${name}\``) };
  }
  const dir = await mkdtemp(join(tmpdir(), 'chatapi-bench-'));
  return { url: `sqlite:${join(dir, 'bench.db')}`, drop: () => rm(dir, { recursive: true, force: true }) };
}

interface Row { name: string; n: number; perSec: number; wallUs: number; cpuUs: number; dbCpuUs?: number; perBatch: number; commitMs: number }

/** CPU time (user + system, µs) the process `pid` has used so far, from /proc (Linux; clock ticks of 10 ms). */
function processCpuUs(pid: string): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10_000; // utime, stime (fields 14 and 15 of stat)
}
const DB_PID = args['db-pid'];

async function timed(db: Knex, name: string, n: number, run: () => Promise<void>): Promise<Row> {
  const commits: number[] = [];
  const stop = onSendBatch(db, (_, seconds) => { commits.push(seconds * 1000); });
  const cpu0 = process.cpuUsage();
  const db0 = DB_PID ? processCpuUs(DB_PID) : 0;
  const t0 = process.hrtime.bigint();
  await run();
  const wallNs = Number(process.hrtime.bigint() - t0);
  const cpu = process.cpuUsage(cpu0);
  const dbCpuUs = DB_PID ? (processCpuUs(DB_PID) - db0) / n : undefined;
  stop();
  return { name, n, perSec: n / (wallNs / 1e9), wallUs: wallNs / 1e3 / n, cpuUs: (cpu.user + cpu.system) / n, dbCpuUs, perBatch: n / commits.length, commitMs: commits.sort((a, b) => a - b)[commits.length >> 1]! };
}

async function bench(useMysql: boolean): Promise<Row[]> {
  const target = await freshDatabase(useMysql);
  const db = await openDatabase(target.url, { sqliteSynchronous: SYNCHRONOUS });
  try {
    await migrate(db);
    let published = 0;
    const domain: Domain = createDomain({
      db,
      bus: { publish: () => { published++; } },
      config: { jwtIssuer: 'bench', rateLimitPerSecond: 1e9, rateLimitBurst: 1e9 },
      log: { warn() {}, error() {} },
    });
    const { tenant } = await domain.tenants.create({ name: 'bench' });
    const tenantCaller: Caller = { kind: 'tenant', tenantId: tenant.id };
    const users: UserCaller[] = [];
    for (let i = 0; i < Math.max(C, MEMBERS); i++) {
      const user = await domain.users.create(tenantCaller, { id: `u${i}`, username: `u${i}` });
      users.push({ kind: 'user', tenantId: tenant.id, user, via: 'key' });
    }
    const roomOf = async (members: UserCaller[]) =>
      (await domain.rooms.create(members[0], { type: 'group', name: 'bench', members: members.slice(1).map((u) => u.user.id) })).room.id;
    const shared = await roomOf(users.slice(0, Math.max(C, MEMBERS)));
    const own: string[] = [];
    for (let w = 0; w < C; w++) own.push(await roomOf([users[w], ...users.filter((_, i) => i !== w).slice(0, MEMBERS - 1)]));

    let k = 0;
    const sendOne = (sender: UserCaller, roomId: string) =>
      domain.messages.send(sender, roomId, { content: `hello ${k}`, client_msg_id: `k${k++}` });

    // Warm up (JIT, statement caches, pool) outside the timed runs.
    for (let i = 0; i < 200; i++) await sendOne(users[i % MEMBERS], shared);

    const rows: Row[] = [];
    const want = (run: string) => !args.only || args.only === run;
    if (want('sequential')) rows.push(await timed(db, 'sequential', N, async () => {
      for (let i = 0; i < N; i++) await sendOne(users[i % MEMBERS], shared);
    }));
    const concurrent = (roomFor: (w: number) => string) => async () => {
      const per = Math.ceil(N / C);
      await Promise.all(Array.from({ length: C }, async (_, w) => {
        for (let i = 0; i < per; i++) await sendOne(users[w], roomFor(w));
      }));
    };
    if (want('1room')) rows.push(await timed(db, `${C}-way, 1 room`, Math.ceil(N / C) * C, concurrent(() => shared)));
    if (want('rooms')) rows.push(await timed(db, `${C}-way, ${C} rooms`, Math.ceil(N / C) * C, concurrent((w) => own[w])));

    // The guarantees still hold after the run: every room's seq is 1..last_seq without gaps.
    for (const roomId of [shared, ...own]) {
      const r = await db('messages').where({ room_id: roomId }).count({ n: '*' }).max({ hi: 'seq' }).first();
      const room = await db('rooms').where({ id: roomId }).first('last_seq');
      if (Number(r?.n) !== Number(r?.hi) || Number(r?.hi) !== Number(room.last_seq)) {
        throw new Error(`room ${roomId}: ${r?.n} messages, max seq ${r?.hi}, last_seq ${room.last_seq}: gap or mismatch`);
      }
    }

    const settings = Object.entries(await durabilitySettings(db)).map(([k, v]) => `${k}=${v}`).join(', ');
    console.log(`domain.messages.send on ${useMysql ? 'mysql' : 'sqlite'} (${settings}): ${N} sends per run, ${published} events published`);
    console.log(`${'run'.padEnd(20)}${'msgs/s'.padStart(10)}${'wall µs/send'.padStart(14)}${'CPU µs/send'.padStart(13)}${'sends/batch'.padStart(13)}${'p50 batch ms'.padStart(14)}${DB_PID ? 'db CPU µs/send'.padStart(16) : ''}`);
    for (const r of rows) console.log(`${r.name.padEnd(20)}${fmt(r.perSec).padStart(10)}${fmt(r.wallUs, 1).padStart(14)}${fmt(r.cpuUs, 1).padStart(13)}${fmt(r.perBatch, 1).padStart(13)}${fmt(r.commitMs, 2).padStart(14)}${r.dbCpuUs === undefined ? '' : fmt(r.dbCpuUs, 1).padStart(16)}`);
    return rows;
  } finally {
    await closeDatabase(db);
    await target.drop();
  }
}

const fmt = (v: number, d = 0) => v.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
const subjects = args.mysql ? [true] : args.sqlite || !process.env.MYSQL_URL ? [false] : [false, true];
for (const useMysql of subjects) {
  const rows = await bench(useMysql);
  if (useMysql) {
    const r = rows.find((row) => row.name === `${C}-way, ${C} rooms`);
    if (r) console.log(`goal: MySQL ${r.name} ≥ ${fmt(MYSQL_GOAL)} sends/s: ${fmt(r.perSec)} ${r.perSec >= MYSQL_GOAL ? 'MET' : 'MISSED'}`);
  }
  console.log('');
}

/**
 * The admin panel's figures on a big tenant: seeds N messages (default 100,000) over 30 days in
 * 500 rooms and 100 tickets, then runs getAdminStats a few times and prints, for every query it
 * issued, the database's EXPLAIN and the median wall time of the whole call. Shows that no figure
 * scans every message of the tenant: per-day counts range over the (tenant_id, created_at) index,
 * unread counts range over (room_id, seq) after each member's read cursor.
 *
 *   MYSQL_URL=mysql://root@127.0.0.1:3306/test node --import tsx load/bench/admin-stats-explain.ts [--n 100000]
 *   node --import tsx load/bench/admin-stats-explain.ts --sqlite      (EXPLAIN QUERY PLAN on SQLite)
 *
 * Uses a fresh database (dropped afterwards) or a temp SQLite file.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Knex } from 'knex';
import mysql from 'mysql2/promise';
import { createDomain, type UserCaller } from '../../src/domain/index.ts';
import { closeDatabase, driver, migrate, openDatabase } from '../../src/store/db.ts';

const { values: args } = parseArgs({ options: { n: { type: 'string', default: '100000' }, sqlite: { type: 'boolean', default: false } } });
const N = Number(args.n);
const ROOMS = 500;
const TICKETS = 100;
const USERS = 200;
const DAY = 86_400_000;

async function database(): Promise<{ url: string; drop(): Promise<void> }> {
  const base = process.env.MYSQL_URL;
  if (!base || args.sqlite) {
    const dir = await mkdtemp(join(tmpdir(), 'chatapi-explain-'));
    return { url: `sqlite:${join(dir, 'x.db')}`, drop: () => rm(dir, { recursive: true, force: true }) };
  }
  const name = `chatapi_explain_${randomBytes(4).toString('hex')}`;
  const u = new URL(base);
  const server = () => mysql.createConnection({ host: u.hostname, port: Number(u.port || 3306), user: decodeURIComponent(u.username), password: decodeURIComponent(u.password) });
  const c = await server();
  await c.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`);
  await c.end();
  u.pathname = `/${name}`;
  return { url: u.toString(), drop: async () => { const d = await server(); await d.query(`DROP DATABASE \`${name}\``); await d.end(); } };
}

async function insertChunked(db: Knex, table: string, rows: Record<string, unknown>[]): Promise<void> {
  for (let i = 0; i < rows.length; i += 500) await db(table).insert(rows.slice(i, i + 500));
}

/** One tenant: USERS users, ROOMS groups of 3 (TICKETS of them tickets), N messages over the last 30 days. */
async function seed(db: Knex, tenantId: string, now: number): Promise<void> {
  const users = Array.from({ length: USERS }, (_, i) => ({
    tenant_id: tenantId, id: `u${i}`, username: `u${i}`, role: i === 0 ? 'admin' : 'user', permissions: '{}', created_at: now, updated_at: now,
  }));
  await insertChunked(db, 'users', users);
  const rooms = Array.from({ length: ROOMS }, (_, i) => ({
    id: randomUUID(), tenant_id: tenantId, type: i < TICKETS ? 'ticket' : 'group', name: `r${i}`, created_by: `u${i % USERS}`,
    last_seq: 0, created_at: now - 30 * DAY, updated_at: now, slow_mode_seconds: 0,
  }));
  const members = rooms.flatMap((r, i) => [0, 1, 2].map((k) => ({
    tenant_id: tenantId, room_id: r.id, user_id: `u${(i + k * 7) % USERS}`, role: k === 0 ? 'owner' : 'member', delivered_seq: 0, read_seq: 0, joined_at: now,
  })));
  const messages: Record<string, unknown>[] = [];
  for (let m = 0; m < N; m++) {
    const room = rooms[m % ROOMS]!;
    room.last_seq += 1;
    messages.push({
      id: randomUUID(), tenant_id: tenantId, room_id: room.id, seq: room.last_seq, sender_id: members[(m % ROOMS) * 3 + (m % 3)]!.user_id,
      content: `m${m}`, created_at: now - Math.floor((m / N) * 30 * DAY),
    });
  }
  // Most members have read most of their rooms: 90% of each room read by its members.
  for (const mem of members) mem.read_seq = Math.floor(rooms.find((r) => r.id === mem.room_id)!.last_seq * 0.9);
  await insertChunked(db, 'rooms', rooms);
  await insertChunked(db, 'room_members', members);
  await insertChunked(db, 'tickets', rooms.slice(0, TICKETS).map((r, i) => ({
    room_id: r.id, tenant_id: tenantId, requester_id: r.created_by, assignee_id: i % 3 ? 'u0' : null, status: ['open', 'pending', 'resolved', 'closed'][i % 4],
    priority: ['low', 'medium', 'high', 'urgent'][i % 4], priority_rank: i % 4, created_at: now - 30 * DAY, first_response_at: i % 2 ? now - 30 * DAY + i * 60_000 : null,
  })));
  await insertChunked(db, 'messages', messages);
  if (driver(db) === 'mysql') for (const t of ['messages', 'rooms', 'room_members', 'tickets', 'users']) await db.raw(`ANALYZE TABLE ${t}`);
  else await db.raw('ANALYZE');
}

async function main(): Promise<void> {
  const target = await database();
  const db = await openDatabase(target.url);
  try {
    await migrate(db);
    const domain = createDomain({ db, bus: { publish() {} }, config: { jwtIssuer: 'x', rateLimitPerSecond: 1, rateLimitBurst: 1 }, log: { warn() {}, error() {} } });
    const { tenant } = await domain.tenants.create({ name: 'explain' });
    const now = Date.now();
    const t0 = performance.now();
    await seed(db, tenant.id, now);
    console.log(`${driver(db)}: seeded ${N} messages in ${ROOMS} rooms (${TICKETS} tickets) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const admin: UserCaller = { kind: 'user', tenantId: tenant.id, user: await domain.users.get({ kind: 'tenant', tenantId: tenant.id }, 'u0'), via: 'key' };
    const seen: { sql: string; bindings: unknown[] }[] = [];
    const capture = (q: { sql: string; bindings?: unknown[] }) => seen.push({ sql: q.sql, bindings: q.bindings ?? [] });
    db.on('query', capture);
    const stats = await domain.admin.stats(admin);
    db.off('query', capture);
    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      const s = performance.now();
      await domain.admin.stats(admin);
      times.push(performance.now() - s);
    }
    times.sort((a, b) => a - b);
    console.log(`getAdminStats: median ${times[2]!.toFixed(1)} ms over 5 calls; messages=${stats.messages} unread_total=${stats.unread_total}\n`);
    const explain = driver(db) === 'mysql' ? 'EXPLAIN ' : 'EXPLAIN QUERY PLAN ';
    for (const q of seen) {
      if (!/^select/i.test(q.sql)) continue;
      const res = await db.raw(explain + q.sql, q.bindings as Knex.RawBinding[]);
      const rows = (driver(db) === 'mysql' ? (res as [unknown[]])[0] : res) as Record<string, unknown>[];
      console.log(q.sql);
      console.table(rows.map((r) => (driver(db) === 'mysql'
        ? { table: r.table, type: r.type, key: r.key, key_len: r.key_len, ref: r.ref, rows: r.rows, Extra: r.Extra }
        : { detail: r.detail })));
    }
  } finally {
    await closeDatabase(db);
    await target.drop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});

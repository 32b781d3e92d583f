/**
 * Which B-trees a SQLite send batch writes to the WAL (issue 12): counts, not times, so a busy
 * machine cannot move them. A fresh file with chatapi's schema (migrations), a tenant with `--rooms`
 * rooms of 10 members and random room ids (as domain/rooms.ts makes them), then batches of the send
 * path's own statements (store/sqlite-append.ts BUMP and INSERT): `--per` rooms per batch, `--run`
 * sends each (one sender's pipelined window takes its seqs with one UPDATE), rooms taken in turn
 * as the saturated harness takes them. After `--warm` batches, each of `--measure` batches is
 * committed alone in the WAL (checkpointed between) and its frames are read back: each frame
 * header names its page, and `dbstat` names the B-tree that page belongs to.
 *
 *   node --import tsx load/bench/wal-pages.ts [--rooms 500] [--per 64] [--run 4] [--warm 300] [--measure 40] [--page-size 4096] [--content 40] [--keys harness|uuid|ordered]
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { closeDatabase, migrate, openDatabase } from '../../src/store/db.ts';
import { uuidv7 } from '../../src/store/ordered-id.ts';
import { BUMP, INSERT } from '../../src/store/sqlite-append.ts';
import type { Stmt } from '../../src/store/sqlite-raw.ts';

const { values: a } = parseArgs({
  options: {
    rooms: { type: 'string', default: '500' },
    per: { type: 'string', default: '64' },
    run: { type: 'string', default: '4' },
    warm: { type: 'string', default: '300' },
    measure: { type: 'string', default: '40' },
    'page-size': { type: 'string' },
    content: { type: 'string', default: '40' }, // characters per message
    keys: { type: 'string', default: 'harness' }, // client_msg_ids: harness (`<nonce>-<n>`), uuid (random v4), ordered (uuidv7)
  },
});
const ROOMS = Number(a.rooms), PER = Number(a.per), RUN = Number(a.run), SIZE = 10;
interface Sqlite { prepare(sql: string): Stmt; pragma(s: string, o?: { simple: boolean }): unknown; exec(sql: string): void; close(): void }
const Database = createRequire(import.meta.url)('better-sqlite3') as new (file: string) => Sqlite;

const dir = mkdtempSync(join(tmpdir(), 'chatapi-wal-pages-'));
const file = join(dir, 'wal-pages.db');
const tenant = randomUUID();
const rooms: { id: string; sender: string }[] = [];
{
  const knex = await openDatabase(`sqlite:${file}`);
  await migrate(knex);
  const now = Date.now();
  await knex('tenants').insert({ id: tenant, name: 'wal-pages', api_key_hash: 'x'.repeat(64), jwt_secret: 'x', settings: '{}', created_at: now, updated_at: now });
  for (let r = 0; r < ROOMS; r++) {
    const users = Array.from({ length: SIZE }, (_, m) => `b${ROOMS}x${SIZE}-${r * SIZE + m}`);
    await knex.batchInsert('users', users.map((u) => ({ tenant_id: tenant, id: u, username: u, role: 'user', permissions: '{}', created_at: now, updated_at: now })), 100);
    const id = randomUUID();
    await knex('rooms').insert({ id, tenant_id: tenant, type: 'group', name: `bench ${r}`, created_by: users[0], last_seq: 0, created_at: now, updated_at: now });
    await knex.batchInsert('room_members', users.map((u, m) => ({ tenant_id: tenant, room_id: id, user_id: u, role: m ? 'member' : 'owner', joined_at: now })), 100);
    rooms.push({ id, sender: users[0]! });
  }
  await closeDatabase(knex);
}

const db = new Database(file);
if (a['page-size']) {
  db.pragma('journal_mode = DELETE');
  db.pragma(`page_size = ${Number(a['page-size'])}`);
  db.exec('VACUUM');
}
db.pragma('journal_mode = WAL');
db.pragma('synchronous = NORMAL');
db.pragma('foreign_keys = ON');
db.pragma('wal_autocheckpoint = 0');
const page = Number(db.pragma('page_size', { simple: true }));
const bump = db.prepare(BUMP);
const insert = db.prepare(INSERT);
const content = 'x'.repeat(Number(a.content));
const nonce = randomUUID().slice(0, 8);
let key = 0;
const clientKey = a.keys === 'uuid' ? () => randomUUID() : a.keys === 'ordered' ? () => uuidv7() : () => `${nonce}-${key++}`; // harness: as load/bench makes them
let batches = 0;

function sendBatch(): void {
  db.prepare('BEGIN IMMEDIATE').run();
  for (let j = 0; j < PER; j++) {
    const room = rooms[(batches * PER + j) % ROOMS]!;
    const at = Date.now();
    const { last_seq: last } = bump.get(RUN, at, tenant, room.id, 0, room.id, room.sender, tenant, at) as { last_seq: number };
    for (let s = 0; s < RUN; s++) {
      insert.run(uuidv7(), tenant, room.id, last - RUN + s + 1, room.sender, content, null, clientKey(),
        'e7b613ebceca6628c972b4533ca246ab14743dc322876121066f00d0f27c81b4', at, null, null);
    }
  }
  db.prepare('COMMIT').run();
  batches += 1;
}

function owners(): Map<number, string> {
  const byPage = new Map<number, string>();
  for (const { name, pageno } of db.prepare('SELECT name, pageno FROM dbstat').all() as { name: string; pageno: number }[]) byPage.set(pageno, name);
  return byPage;
}

for (let i = 0; i < Number(a.warm); i++) {
  sendBatch();
  if (i % 4 === 3) db.pragma('wal_checkpoint(TRUNCATE)'); // as often as the send path checkpoints (wal-sync.ts)
}
db.pragma('wal_checkpoint(TRUNCATE)');
let byPage = owners();
const frames = new Map<string, number>();
let total = 0;
const measure = Number(a.measure);
for (let i = 0; i < measure; i++) {
  sendBatch();
  const wal = readFileSync(`${file}-wal`);
  for (let at = 32; at + 24 <= wal.length; at += 24 + page) {
    const name = byPage.get(wal.readUInt32BE(at)) ?? '(a page new since the last dbstat)';
    frames.set(name, (frames.get(name) ?? 0) + 1);
    total += 1;
  }
  db.pragma('wal_checkpoint(TRUNCATE)');
  if (i % 10 === 9) byPage = owners();
}
db.close();
rmSync(dir, { recursive: true, force: true });

const sends = PER * RUN;
console.log(`${ROOMS} rooms, batches of ${PER} rooms × ${RUN} sends (${sends}), page ${page} B, client keys ${a.keys}, after ${a.warm} batches:`);
console.log(`  ${(total / measure).toFixed(1)} WAL frames per batch, ${(total / measure / sends).toFixed(2)} per send, ${(total / measure / PER).toFixed(2)} per room, ${Math.round((total / measure) * (page + 24) / 1024)} KiB per batch`);
for (const [name, n] of [...frames].sort((x, y) => y[1] - x[1])) console.log(`  ${(n / measure).toFixed(1).padStart(7)}  ${name}`);

/**
 * SQLite's send writer thread (store/sqlite-writer.ts): send batches are stored on a worker thread
 * with its own connection, and the loop answers each send from what comes back. Checked on a real
 * database file: the loop's connection runs none of a batch's statements, every answer (seq,
 * refusal, a repeated key's duplicate-key error, the run's shared time) is the one the loop's own
 * path gives (test/domain/sqlite-runs.test.ts), what was acknowledged is in the file for any other
 * connection, a tenant with a webhook endpoint gets its outbox rows, knex transactions running
 * meanwhile never see the thread's lock, and a stopped thread hands the batches back to the loop.
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { after, before, beforeEach, describe, test } from 'node:test';
import { loadConfig } from '../../src/config.ts';
import { onSendBatch } from '../../src/store/batch-stats.ts';
import { resolveSendWriter } from '../../src/store/db.ts';
import { BUMP, INSERT } from '../../src/store/sqlite-batch.ts';
import type { RawSqlite, Stmt } from '../../src/store/sqlite-raw.ts';
import { existingWriter, SendWriter } from '../../src/store/sqlite-writer.ts';
import { backends } from '../helpers/backends.ts';
import { subscribe } from '../outbox/subscribe.ts';
import { openHarness, type DomainHarness } from './harness.ts';

const sqlite = backends().find((b) => b.name === 'sqlite')!;
const Database = createRequire(import.meta.url)('better-sqlite3') as new (file: string, o: { readonly: boolean }) => {
  prepare(sql: string): { get(...p: unknown[]): unknown; all(...p: unknown[]): unknown[] };
  close(): void;
};

describe('SQLite send writer thread', () => {
  let h: DomainHarness;
  let file = '';
  /** Statements of the send batch run on the loop's own connection. */
  const onLoop = { bump: 0, insert: 0 };
  before(async () => {
    h = await openHarness(sqlite, { sqliteSendWriter: 'thread' });
    file = String((h.db.client.config.connection as { filename: string }).filename);
    const conn = (await h.db.client.acquireConnection()) as RawSqlite;
    await h.db.client.releaseConnection(conn);
    const prepare = conn.prepare.bind(conn);
    conn.prepare = (sql: string): Stmt => {
      const stmt = prepare(sql);
      if (sql !== BUMP && sql !== INSERT) return stmt;
      const counted = sql === BUMP ? 'bump' : 'insert';
      return {
        run: (...p) => { onLoop[counted] += 1; return stmt.run(...p); },
        get: (...p) => { onLoop[counted] += 1; return stmt.get(...p); },
        all: (...p) => stmt.all(...p),
      };
    };
  });
  after(async () => { await h?.close(); });
  beforeEach(() => { onLoop.bump = 0; onLoop.insert = 0; });

  async function room(t: Awaited<ReturnType<DomainHarness['tenant']>>) {
    const [a, b, c] = await Promise.all([t.user('a'), t.user('b'), t.user('c')]);
    const { room: r } = await h.domain.rooms.create(a, { type: 'group', name: 'g', members: ['b', 'c'] });
    return { a, b, c, room: r };
  }

  test('the thread is up once the schema is migrated; SQLITE_SEND_WRITER=auto takes it from 4 CPUs', () => {
    assert.equal(existingWriter(h.db)?.usable, true);
    assert.equal(loadConfig({}).sqliteSendWriter, 'auto');
    assert.equal(loadConfig({ SQLITE_SEND_WRITER: 'LOOP' }).sqliteSendWriter, 'loop');
    assert.throws(() => loadConfig({ SQLITE_SEND_WRITER: 'fast' }), /SQLITE_SEND_WRITER must be auto, thread or loop, got "fast"/);
    assert.deepEqual([2, 3, 4, 16].map((cpus) => resolveSendWriter('auto', cpus)), ['loop', 'loop', 'thread', 'thread']);
    assert.deepEqual([resolveSendWriter('loop', 16), resolveSendWriter('thread', 2)], ['loop', 'thread']);
  });

  test('a batch is stored on the thread: runs take consecutive seqs, a refused run is refused, a run shares its time', async () => {
    const t = await h.tenant();
    const { a, b, c, room: r } = await room(t);
    const stranger = await t.user('stranger');
    const batches: number[] = [];
    const stop = onSendBatch(h.db, (size) => batches.push(size));
    const send = (u: typeof a, content: string) =>
      h.domain.messages.send(u, r.id, { content }).then((x) => x.message, (err: { code?: string }) => err.code);
    const got = await Promise.all([
      send(a, 'a1'), send(a, 'a2'), send(a, 'a3'), send(b, 'b1'), send(a, 'a4'), send(a, 'a5'),
      send(stranger, 's1'), send(stranger, 's2'), send(c, 'c1'),
    ]);
    stop();
    assert.deepEqual(batches, [9], 'one batch');
    assert.deepEqual(onLoop, { bump: 0, insert: 0 }, 'the loop ran none of its statements');
    assert.deepEqual(got.slice(6, 8), ['NOT_FOUND', 'NOT_FOUND']);
    const stored = [...got.slice(0, 6), got[8]] as { seq: number; content: string; created_at: string }[];
    assert.deepEqual(stored.map((m) => [m.content, m.seq]), [['a1', 1], ['a2', 2], ['a3', 3], ['b1', 4], ['a4', 5], ['a5', 6], ['c1', 7]]);
    assert.equal(stored[0]!.created_at, stored[2]!.created_at);
    const { items } = await h.domain.messages.list(a, r.id, { after_seq: 0 });
    assert.deepEqual(items.map((m) => [m.content, m.seq, m.created_at]), stored.map((m) => [m.content, m.seq, m.created_at]));
    assert.equal((await h.domain.rooms.get(a, r.id)).last_seq, 7);
  });

  test('a repeated key comes back from the thread as the duplicate-key error: the original is replayed, another body is a CONFLICT', async () => {
    const { a, room: r } = await room(await h.tenant());
    const first = await h.domain.messages.send(a, r.id, { content: 'kept', client_msg_id: 'k1' });
    const [x1, x2, x3, x4] = await Promise.all([
      h.domain.messages.send(a, r.id, { content: 'x1' }),
      h.domain.messages.send(a, r.id, { content: 'kept', client_msg_id: 'k1' }),
      h.domain.messages.send(a, r.id, { content: 'other', client_msg_id: 'k1' }).then(() => 'stored', (err: { code?: string }) => err.code),
      h.domain.messages.send(a, r.id, { content: 'x3' }),
    ]);
    assert.deepEqual(onLoop, { bump: 0, insert: 0 });
    assert.deepEqual([x1.created, x2.created, x4.created], [true, false, true]);
    assert.equal(x2.message.id, first.message.id);
    assert.equal(x3, 'CONFLICT');
    assert.deepEqual([x1.message.seq, x4.message.seq], [2, 3], 'the failed sends took no seq');
    assert.equal((await h.domain.rooms.get(a, r.id)).last_seq, 3);
  });

  test('acknowledged means committed: another connection to the file reads every acknowledged send', async () => {
    const { a, b, room: r } = await room(await h.tenant());
    const acked = await Promise.all(Array.from({ length: 40 }, (_, i) => h.domain.messages.send(i % 2 ? a : b, r.id, { content: `m${i}` })));
    const other = new Database(file, { readonly: true });
    try {
      const rows = other.prepare('SELECT id, seq FROM messages WHERE room_id = ? ORDER BY seq').all(r.id) as { id: string; seq: number }[];
      assert.deepEqual(rows.map((x) => [x.id, Number(x.seq)]), acked.map((x) => [x.message.id, x.message.seq]).sort((p, q) => Number(p[1]) - Number(q[1])));
    } finally {
      other.close();
    }
  });

  test('a tenant with a webhook endpoint: its batch is handed back and the loop stores it with its outbox rows', async () => {
    const t = await h.tenant();
    const { a, b, room: r } = await room(t);
    await subscribe(h.db, t.id);
    const sent = await Promise.all([1, 2, 3].map((i) => h.domain.messages.send(i % 2 ? a : b, r.id, { content: `w${i}` })));
    assert.deepEqual(sent.map((s) => s.message.seq), [1, 2, 3]);
    assert.ok(onLoop.insert === 3, `the loop stored the batch (${onLoop.insert} inserts)`);
    const events = await h.db('outbox_events').where({ tenant_id: t.id, type: 'message.created' }).select('room_id');
    assert.equal(events.length, 3, 'one outbox row per stored send');
    // Another tenant's sends, without an endpoint, still go to the thread.
    onLoop.insert = 0;
    const other = await room(await h.tenant());
    await h.domain.messages.send(other.a, other.room.id, { content: 'plain' });
    assert.equal(onLoop.insert, 0);
  });

  test('knex transactions running while the thread stores batches wait their turn instead of failing on its lock', async () => {
    const t = await h.tenant();
    const { a, b, room: r } = await room(t);
    const work: Promise<unknown>[] = [];
    for (let i = 0; i < 60; i++) {
      work.push(h.domain.messages.send(i % 2 ? a : b, r.id, { content: `c${i}` }));
      if (i % 6 === 0) work.push(h.domain.rooms.create(a, { type: 'group', name: `side${i}`, members: ['b'] }));
    }
    const results = await Promise.allSettled(work);
    assert.deepEqual(results.filter((x) => x.status === 'rejected').map((x) => String((x as PromiseRejectedResult).reason)), []);
    assert.equal((await h.domain.rooms.get(a, r.id)).last_seq, 60);
  });

  test('a batch in flight when the thread stops fails (never acknowledged); later batches are stored on the loop', async () => {
    const { a, b, room: r } = await room(await h.tenant());
    const lone = new SendWriter({ file, synchronous: 'FULL', busyTimeoutMs: 5000 });
    assert.equal(await lone.whenReady, true);
    const msg = { id: 'lone-1', tenant_id: a.tenantId, room_id: r.id, sender_id: a.user.id, content: 'x', meta: null, client_msg_id: null, body_hash: null, edited_at: null, deleted_at: null };
    const inFlight = assert.rejects(lone.write([{ msg, now: () => 1 }], [1], false), /the SQLite send writer thread stopped/);
    await lone.stop();
    await inFlight;
    assert.equal(lone.usable, false);
    await assert.rejects(lone.write([{ msg, now: () => 1 }], [1], false), /not running/);

    // A thread that cannot open the file never comes up: its handle's batches stay on the loop.
    const broken = new SendWriter({ file: `${file}.missing`, synchronous: 'FULL', busyTimeoutMs: 5000 });
    assert.equal(await broken.whenReady, false);
    assert.equal(broken.usable, false);

    await existingWriter(h.db)!.stop();
    const sent = await Promise.all([h.domain.messages.send(a, r.id, { content: 'after' }), h.domain.messages.send(b, r.id, { content: 'after2' })]);
    assert.equal(onLoop.insert, 2, 'the loop stored them');
    const { items } = await h.domain.messages.list(a, r.id, { after_seq: 0 });
    assert.deepEqual(items.slice(-2).map((m) => m.id), sent.map((s) => s.message.id));
  });
});

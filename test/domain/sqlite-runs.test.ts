/**
 * SQLite's send batch (store/sqlite-append.ts): a run of consecutive sends by one sender into one
 * room takes its seqs with one UPDATE of the room. Counted on the real connection: how many times
 * the room's UPDATE ran and whether the batch had to be rolled back and run again with savepoints
 * (which would hide a wrong seq on the common path: it fails the UNIQUE(room_id, seq) index, and the
 * second pass, one UPDATE per send, gets it right).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { BUMP } from '../../src/store/sqlite-append.ts';
import type { RawSqlite, Stmt } from '../../src/store/sqlite-raw.ts';
import { backends } from '../helpers/backends.ts';
import { openHarness, type DomainHarness } from './harness.ts';

const sqlite = backends().find((b) => b.name === 'sqlite')!;

describe('SQLite send batch: one room UPDATE per run of one sender', () => {
  let h: DomainHarness;
  const count = { bump: 0, rollback: 0 };
  before(async () => {
    h = await openHarness(sqlite);
    // knex's SQLite pool holds one connection: every send batch runs on this one.
    const conn = (await h.db.client.acquireConnection()) as RawSqlite;
    await h.db.client.releaseConnection(conn);
    const prepare = conn.prepare.bind(conn);
    conn.prepare = (sql: string): Stmt => {
      const stmt = prepare(sql);
      if (sql === 'ROLLBACK') count.rollback += 1;
      if (sql !== BUMP) return stmt;
      return { run: (...p) => stmt.run(...p), all: (...p) => stmt.all(...p), get: (...p) => { count.bump += 1; return stmt.get(...p); } };
    };
  });
  after(async () => { await h?.close(); });

  test('runs take consecutive seqs in submit order; a refused run is refused whole; nothing is run twice', async () => {
    const t = await h.tenant();
    const [a, b, c] = await Promise.all([t.user('a'), t.user('b'), t.user('c')]);
    const stranger = await t.user('stranger');
    const { room } = await h.domain.rooms.create(a, { type: 'group', name: 'g', members: ['b', 'c'] });
    const send = (u: typeof a, content: string) =>
      h.domain.messages.send(u, room.id, { content }).then((r) => r.message, (err: { code?: string }) => err.code);
    count.bump = 0;
    count.rollback = 0;
    // One turn, so one batch: runs a×3, b, a×2, stranger×2, c
    const got = await Promise.all([
      send(a, 'a1'), send(a, 'a2'), send(a, 'a3'), send(b, 'b1'), send(a, 'a4'), send(a, 'a5'),
      send(stranger, 's1'), send(stranger, 's2'), send(c, 'c1'),
    ]);
    assert.deepEqual(got.slice(6, 8), ['NOT_FOUND', 'NOT_FOUND']);
    const stored = [...got.slice(0, 6), got[8]] as { seq: number; content: string; created_at: string }[];
    assert.deepEqual(stored.map((m) => [m.content, m.seq]), [['a1', 1], ['a2', 2], ['a3', 3], ['b1', 4], ['a4', 5], ['a5', 6], ['c1', 7]]);
    // one UPDATE per run (the stranger's run once, refused by it), no second pass
    assert.equal(count.bump, 5);
    assert.equal(count.rollback, 0);
    // a run shares its transaction's time
    assert.equal(stored[0]!.created_at, stored[2]!.created_at);
    const { items } = await h.domain.messages.list(a, room.id, { after_seq: 0 });
    assert.deepEqual(items.map((m) => m.content), ['a1', 'a2', 'a3', 'b1', 'a4', 'a5', 'c1']);
    assert.equal((await h.domain.rooms.get(a, room.id)).last_seq, 7);
  });

  test('a repeated key inside a run: the batch runs again with a savepoint per send, and each send gets its own answer', async () => {
    const t = await h.tenant();
    const a = await t.user('a');
    await t.user('b');
    const { room } = await h.domain.rooms.create(a, { type: 'group', name: 'g', members: ['b'] });
    const first = await h.domain.messages.send(a, room.id, { content: 'kept', client_msg_id: 'k1' });
    count.bump = 0;
    count.rollback = 0;
    const [x1, x2, x3] = await Promise.all([
      h.domain.messages.send(a, room.id, { content: 'x1' }),
      h.domain.messages.send(a, room.id, { content: 'kept', client_msg_id: 'k1' }), // a repeat: the original
      h.domain.messages.send(a, room.id, { content: 'x3' }),
    ]);
    assert.equal(count.rollback, 1); // the run's INSERT hit the key: rolled back, run again
    assert.equal(count.bump, 1 + 3); // the run, then one per send with savepoints
    assert.deepEqual([x1.created, x2.created, x3.created], [true, false, true]);
    assert.equal(x2.message.id, first.message.id);
    assert.deepEqual([x1.message.seq, x3.message.seq], [2, 3]);
    assert.equal((await h.domain.rooms.get(a, room.id)).last_seq, 3);
  });
});

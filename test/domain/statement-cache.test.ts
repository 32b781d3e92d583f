import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { cachePreparedStatements, closeDatabase, migrate, openDatabase } from '../../src/store/db.ts';

const Database = createRequire(import.meta.url)('better-sqlite3');

describe('SQLite prepared-statement cache', () => {
  test('hands back the same statement for the same text, never one that is still iterating', () => {
    const conn = new Database(':memory:');
    cachePreparedStatements(conn);
    conn.prepare('CREATE TABLE t (a INTEGER)').run();
    const insert = conn.prepare('INSERT INTO t (a) VALUES (?)');
    assert.equal(conn.prepare('INSERT INTO t (a) VALUES (?)'), insert);
    for (const a of [1, 2, 3]) assert.equal(conn.prepare('INSERT INTO t (a) VALUES (?)').run([a]).changes, 1);
    const select = conn.prepare('SELECT a FROM t ORDER BY a');
    assert.equal(select.reader, true);
    assert.equal(insert.reader, false);
    const it = select.iterate();
    assert.deepEqual(it.next().value, { a: 1 });
    const other = conn.prepare('SELECT a FROM t ORDER BY a'); // the cached one is busy
    assert.notEqual(other, select);
    assert.deepEqual(other.all(), [{ a: 1 }, { a: 2 }, { a: 3 }]);
    it.return?.();
    assert.equal(conn.prepare('SELECT a FROM t ORDER BY a'), select);
    conn.close();
  });

  test('a statement switched to safe integers leaves the cache', () => {
    const conn = new Database(':memory:');
    cachePreparedStatements(conn);
    const s = conn.prepare('SELECT 1 AS one');
    s.safeIntegers(true);
    assert.equal(s.get().one, 1n);
    const fresh = conn.prepare('SELECT 1 AS one');
    assert.notEqual(fresh, s);
    assert.equal(fresh.get().one, 1);
    conn.close();
  });

  test('keeps a bounded number of texts, dropping the least recently used', () => {
    const conn = new Database(':memory:');
    cachePreparedStatements(conn);
    const first = conn.prepare('SELECT 0');
    const one = conn.prepare('SELECT 1');
    for (let i = 2; i < 600; i++) {
      conn.prepare(`SELECT ${i}`);
      if (i % 100 === 0) assert.equal(conn.prepare('SELECT 0'), first); // kept while in use
    }
    const again = conn.prepare('SELECT 1'); // unused for 598 texts: evicted, prepared afresh
    assert.notEqual(again, one);
    assert.equal(again.get()['1'], 1);
    conn.close();
  });

  test('knex over the cached connection: reads, inserts, updates and schema changes still answer right', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'chatapi-stmt-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const db = await openDatabase(`sqlite:${join(dir, 'db.sqlite')}`);
    t.after(() => closeDatabase(db));
    await migrate(db);
    await db.schema.createTable('kv', (tb) => { tb.increments('id'); tb.string('k'); });
    for (let i = 0; i < 3; i++) assert.deepEqual(await db('kv').insert({ k: `v${i}` }), [i + 1]);
    assert.equal(await db('kv').where({ k: 'v1' }).update({ k: 'w1' }), 1);
    assert.equal(await db('kv').where({ k: 'v1' }).update({ k: 'w1' }), 0);
    assert.deepEqual(await db('kv').where({ id: 2 }).first('k'), { k: 'w1' });
    await db.schema.alterTable('kv', (tb) => { tb.string('extra').defaultTo('x'); });
    assert.deepEqual(await db('kv').where({ id: 2 }).first(), { id: 2, k: 'w1', extra: 'x' });
    await db.transaction(async (trx) => {
      await trx('kv').insert({ k: 'in-trx' });
      assert.equal((await trx('kv').count({ n: '*' }).first())?.n, 4);
    });
    await assert.rejects(db.transaction(async (trx) => {
      await trx('kv').insert({ k: 'rolled back' });
      throw new Error('boom');
    }), /boom/);
    assert.equal((await db('kv').count({ n: '*' }).first())?.n, 4);
  });
});

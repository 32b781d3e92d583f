/** TurnBatch: reads asked for in one turn share one fetch per group; each caller gets its own key's value. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CHUNK, TurnBatch } from '../../src/domain/turn-batch.ts';

test('one fetch per group per turn, deduplicated keys, the default for keys not found', async () => {
  const fetches: [string, string[]][] = [];
  const batch = new TurnBatch<number>(async (group, keys) => {
    fetches.push([group, keys]);
    return new Map(keys.filter((k) => k !== 'missing').map((k) => [k, k.length]));
  }, -1);
  const got = await Promise.all([batch.load('t1', 'a'), batch.load('t1', 'bb'), batch.load('t2', 'ccc'), batch.load('t1', 'a'), batch.load('t1', 'missing')]);
  assert.deepEqual(got, [1, 2, 3, 1, -1]);
  assert.deepEqual(fetches, [['t1', ['a', 'bb', 'missing']], ['t2', ['ccc']]]);
  // a later turn is a new batch, read afresh (no cache)
  assert.equal(await batch.load('t1', 'a'), 1);
  assert.equal(fetches.length, 3);
});

test('a read is never run before it was asked for: it starts after the turn it was asked in', async () => {
  let value = 1;
  const batch = new TurnBatch<number>(async (_g, keys) => new Map(keys.map((k) => [k, value])), 0);
  const read = batch.load('g', 'k');
  value = 2; // committed after the call, in the same turn: the read sees it
  assert.equal(await read, 2);
});

test('keys beyond CHUNK are fetched in several queries; a failed fetch rejects every caller of its group only', async () => {
  const sizes: number[] = [];
  const batch = new TurnBatch<string>(async (group, keys) => {
    if (group === 'bad') throw new Error('database down');
    sizes.push(keys.length);
    return new Map(keys.map((k) => [k, `v${k}`]));
  }, '');
  const many = Array.from({ length: CHUNK + 3 }, (_, i) => batch.load('good', String(i)));
  const bad = [batch.load('bad', 'x'), batch.load('bad', 'y')];
  assert.deepEqual(await Promise.all(many), Array.from({ length: CHUNK + 3 }, (_, i) => `v${i}`));
  assert.deepEqual(sizes, [CHUNK, 3]);
  for (const p of bad) await assert.rejects(p, /database down/);
});

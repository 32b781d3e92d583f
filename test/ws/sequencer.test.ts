/** The per-room sequencer: strict seq order on the topic, gaps filled from the store, nothing lost. */
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { type Found, Sequencer } from '../../src/ws/sequencer.ts';

const frame = (seq: number) => Buffer.from(String(seq));
const settle = () => new Promise((resolve) => setImmediate(resolve));

function make(t: TestContext, last: number, stored: number[] = []) {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const published: number[] = [];
  let advances = 0;
  const loads: [number, number][] = [];
  const seq = new Sequencer(last, {
    publish: (b) => published.push(Number(b.toString())),
    onAdvance: () => void advances++,
    load: async (from, to): Promise<Found[]> => {
      loads.push([from, to]);
      return stored.filter((s) => s >= from && s <= to).map((s) => ({ seq: s, bytes: frame(s) }));
    },
  }, 500);
  t.after(() => seq.dispose());
  return { seq, published, loads, advances: () => advances };
}

test('publishes in seq order, holding later frames until the gap fills', (t) => {
  const { seq, published } = make(t, 10);
  seq.offer(11, frame(11));
  seq.offer(13, frame(13));
  seq.offer(14, frame(14));
  assert.deepEqual(published, [11]);
  seq.offer(12, frame(12));
  assert.deepEqual(published, [11, 12, 13, 14]);
  seq.offer(12, frame(12)); // a repeat is dropped
  assert.deepEqual(published, [11, 12, 13, 14]);
  assert.equal(seq.last, 14);
});

test('a gap that stays open is filled from the store', async (t) => {
  const { seq, published, loads } = make(t, 0, [1, 2, 3]);
  seq.offer(3, frame(3));
  t.mock.timers.tick(500);
  await settle();
  assert.deepEqual(loads, [[1, 2]]);
  assert.deepEqual(published, [1, 2, 3]);
});

test('what the store cannot fill is skipped, and published late if it turns up', async (t) => {
  const { seq, published } = make(t, 0, []);
  seq.offer(2, frame(2));
  t.mock.timers.tick(500);
  await settle();
  assert.deepEqual(published, [2]);
  seq.offer(1, frame(1));
  seq.offer(1, frame(1));
  assert.deepEqual(published, [2, 1]);
});

test('catchUp publishes what was stored after the last seq', async (t) => {
  const { seq, published } = make(t, 5, [4, 5, 6, 7]);
  await seq.catchUp();
  assert.deepEqual(published, [6, 7]);
  assert.equal(seq.last, 7);
});

test('skipTo moves past seqs nobody here needs; held ones up to it go out', (t) => {
  const { seq, published } = make(t, 0);
  seq.offer(3, frame(3));
  seq.skipTo(2);
  assert.deepEqual(published, [3]);
  assert.equal(seq.last, 3);
});

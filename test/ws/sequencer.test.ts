/** The per-room sequencer: strict seq order on the topic, gaps filled from the store, nothing lost. */
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { type Found, Sequencer } from '../../src/ws/sequencer.ts';

const frame = (seq: number) => Buffer.from(String(seq));
const settle = () => new Promise((resolve) => setImmediate(resolve));
/** Most messages one load returns (the router reads pages of 200). */
const PAGE = 200;

/** The tag the sequencer was made with: every hook is called with it (one hooks object serves every room). */
const ROOM = { room: 'r1' };

function make(t: TestContext, last: number, stored: number[] = [], unannounced = new Set<number>()) {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'] });
  const published: number[] = [];
  let advances = 0;
  const loads: [number, number][] = [];
  const gaps: string[] = [];
  const seq = new Sequencer(last, {
    gap: (outcome, room) => void gaps.push(`${outcome}${room === ROOM ? '' : ` (room ${room})`}`),
    publish: (b, room) => published.push(room === ROOM ? Number(b.toString()) : NaN),
    onAdvance: (room) => void (advances += room === ROOM ? 1 : NaN),
    load: async (from, to, room): Promise<Found[]> => {
      loads.push(room === ROOM ? [from, to] : [NaN, NaN]);
      return stored.filter((s) => s >= from && s <= to).slice(0, PAGE).map((s) => ({ seq: s, bytes: frame(s) }));
    },
    unannounced: (from, to, room) => [...unannounced].filter(() => room === ROOM).filter((s) => s >= from && s <= to).sort((a, b) => a - b)[0],
  }, 500, 10_000, ROOM);
  t.after(() => seq.dispose());
  return { seq, published, loads, gaps, advances: () => advances };
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
  const { seq, published, loads, gaps } = make(t, 0, [1, 2, 3]);
  seq.offer(3, frame(3));
  t.mock.timers.tick(500);
  await settle();
  assert.deepEqual(loads, [[1, 2]]);
  assert.deepEqual(published, [1, 2, 3]);
  assert.deepEqual(gaps, ['filled']);
});

test('what the store cannot fill is skipped, and published late if it turns up', async (t) => {
  const { seq, published, gaps } = make(t, 0, []);
  seq.offer(2, frame(2));
  t.mock.timers.tick(500);
  await settle();
  assert.deepEqual(published, [2]);
  assert.deepEqual(gaps, ['skipped']);
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

test('a seq committed here and not yet announced is neither filled from the store nor skipped', async (t) => {
  // Seq 2 is committed (so the store has it) by a pipelined send of this process still waiting to be
  // acked: publishing it from the store would put its message.created before its ack.
  const unannounced = new Set([2]);
  const { seq, published, loads, gaps } = make(t, 0, [1, 2, 3, 4], unannounced);
  seq.offer(4, frame(4));
  t.mock.timers.tick(500);
  await settle();
  assert.deepEqual(loads, [[1, 1]], 'loads only below the unannounced seq');
  assert.deepEqual(published, [1], 'seq 1 filled; 2 left open, so 4 waits');
  assert.equal(seq.last, 1);
  t.mock.timers.tick(500); // still unannounced: the gap stays open, timer after timer
  await settle();
  assert.deepEqual(published, [1]);
  assert.deepEqual(gaps, ['waiting', 'waiting']);
  unannounced.delete(2);
  seq.offer(2, frame(2)); // announced (after its ack)
  assert.deepEqual(published, [1, 2]);
  t.mock.timers.tick(500); // 3 never announced here: filled from the store as before
  await settle();
  assert.deepEqual(published, [1, 2, 3, 4]);
  assert.equal(seq.last, 4);
  assert.deepEqual(gaps, ['waiting', 'waiting', 'filled']);
});

test('catchUp stops below a seq still to be announced here', async (t) => {
  const { seq, published } = make(t, 0, [1, 2, 3], new Set([2]));
  await seq.catchUp();
  assert.deepEqual(published, [1]);
  assert.equal(seq.last, 1);
});

test('a seq unannounced for longer than maxWaitMs (10 s: 20 gap waits) no longer holds the stream back', async (t) => {
  const { seq, published, gaps } = make(t, 0, [1, 2, 3], new Set([2]));
  seq.offer(3, frame(3));
  for (let i = 0; i < 20; i++) {
    t.mock.timers.tick(500);
    await settle();
  }
  assert.deepEqual(published, [1], 'held back for 19 waits');
  assert.equal(gaps.filter((g) => g === 'waiting').length, 20);
  t.mock.timers.tick(500);
  await settle();
  assert.deepEqual(published, [1, 2, 3], 'then filled from the store like any gap');
  assert.equal(gaps.at(-1), 'filled');
  seq.offer(2, frame(2)); // announced at last: already published, dropped
  assert.deepEqual(published, [1, 2, 3]);
});

test('a gap longer than a page is filled page after page, none skipped', async (t) => {
  const stored = Array.from({ length: 451 }, (_, i) => i + 1);
  const { seq, published, loads, gaps } = make(t, 0, stored);
  seq.offer(451, frame(451));
  t.mock.timers.tick(500);
  for (let i = 0; i < 5; i++) await settle();
  assert.deepEqual(loads, [[1, 450], [201, 450], [401, 450]]);
  assert.deepEqual(published, stored, 'every stored seq, in order');
  assert.deepEqual(gaps, ['filled']);
});

test('catchUp after a long outage publishes every stored message, page after page', async (t) => {
  const stored = Array.from({ length: 500 }, (_, i) => i + 1);
  const { seq, published } = make(t, 20, stored);
  await seq.catchUp();
  assert.deepEqual(published, stored.slice(20));
  assert.equal(seq.last, 500);
});

test('a gap with more frames held behind it than a call takes arguments is still filled', async (t) => {
  const { seq, published } = make(t, 0, [1]);
  const behind = 300_000;
  for (let s = 2; s <= behind + 1; s++) seq.offer(s, frame(s));
  assert.equal(published.length, 0);
  t.mock.timers.tick(500);
  await settle();
  assert.equal(published.length, behind + 1);
  assert.equal(seq.last, behind + 1);
});

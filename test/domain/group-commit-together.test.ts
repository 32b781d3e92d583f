/** GroupCommit's `together` token: a token's sends queued at the same time are one group, in submit order, never split between batches. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GroupCommit } from '../../src/store/group-commit.ts';

function recorder(maxBatch: number, maxInFlight: number) {
  const batches: string[][] = [];
  const commit = new GroupCommit<string, string>(async (batch) => {
    batches.push(batch);
    return batch.map((value) => ({ value }));
  }, maxBatch, maxInFlight);
  return { batches, commit };
}

test('a together group that the maxBatch cut would split goes whole into one batch', async () => {
  const { batches, commit } = recorder(2, 2);
  const group = {};
  const sent = [commit.submit('a'), commit.submit('b', group), commit.submit('c', group), commit.submit('d', group), commit.submit('e'), commit.submit('f')];
  assert.deepEqual(await Promise.all(sent), ['a', 'b', 'c', 'd', 'e', 'f']);
  assert.deepEqual(batches, [['a', 'b', 'c', 'd'], ['e', 'f']]);
});

test('two groups next to each other are cut between them, and no token means the plain cut', async () => {
  const { batches, commit } = recorder(2, 1);
  const g1 = {};
  const g2 = {};
  await Promise.all([commit.submit('a', g1), commit.submit('b', g1), commit.submit('c', g2), commit.submit('d', g2), commit.submit('e'), commit.submit('f'), commit.submit('g')]);
  assert.deepEqual(batches, [['a', 'b'], ['c', 'd'], ['e', 'f'], ['g']]);
});

test("a token's later send joins its group still in the queue, ahead of sends queued in between", async () => {
  const { batches, commit } = recorder(10, 1);
  const conn = {};
  const sent = [commit.submit('a1', conn), commit.submit('x'), commit.submit('y', {}), commit.submit('a2', conn), commit.submit('z'), commit.submit('a3', conn)];
  assert.deepEqual(await Promise.all(sent), ['a1', 'x', 'y', 'a2', 'z', 'a3']); // each its own answer
  assert.deepEqual(batches, [['a1', 'a2', 'a3', 'x', 'y', 'z']]);
});

test('once a batch has taken a group, the same token starts a new group at the end of the queue', async () => {
  const batches: string[][] = [];
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  const commit = new GroupCommit<string, string>(async (batch) => {
    batches.push(batch);
    if (batches.length === 1) await held; // the first batch commits while the next sends queue
    return batch.map((value) => ({ value }));
  }, 10, 1);
  const conn = {};
  const first = commit.submit('a1', conn);
  await new Promise((resolve) => setImmediate(resolve)); // the first batch is cut: [a1]
  assert.deepEqual(batches, [['a1']]);
  const rest = [commit.submit('x'), commit.submit('a2', conn), commit.submit('y'), commit.submit('a3', conn)];
  assert.equal(commit.waiting, 4);
  release();
  assert.deepEqual(await Promise.all([first, ...rest]), ['a1', 'x', 'a2', 'y', 'a3']);
  assert.deepEqual(batches, [['a1'], ['x', 'a2', 'a3', 'y']]);
  assert.equal(commit.waiting, 0);
});

test('a group that grows past maxBatch while queued still goes whole, and the cut goes on after it', async () => {
  const { batches, commit } = recorder(3, 1);
  const conn = {};
  const sent = [commit.submit('x'), commit.submit('a1', conn), commit.submit('y'), commit.submit('a2', conn), commit.submit('a3', conn), commit.submit('a4', conn), commit.submit('z')];
  await Promise.all(sent);
  assert.deepEqual(batches, [['x', 'a1', 'a2', 'a3', 'a4'], ['y', 'z']]);
});

test('submitMany: its sends are consecutive in their batch, join their token\'s group, count toward maxBatch, and come back as one answer in order', async () => {
  const batches: string[][] = [];
  const commit = new GroupCommit<string, string>(async (batch) => {
    batches.push(batch);
    return batch.map((value) => (value.startsWith('bad') ? { err: new Error(value) } : { value: value.toUpperCase() }));
  }, 4, 1);
  const conn = {};
  const pending = [commit.submitMany(['a1', 'bad-a2', 'a3'], conn), commit.submit('x'), commit.submitMany(['a4', 'a5'], conn), commit.submitMany(['y1', 'y2'])] as const;
  assert.equal(commit.waiting, 8);
  const [run1, x, run2, run3] = await Promise.all(pending);
  assert.deepEqual(batches, [['a1', 'bad-a2', 'a3', 'a4', 'a5'], ['x', 'y1', 'y2']], 'the token\'s runs whole in one batch (past maxBatch), the rest cut after it');
  assert.deepEqual(run1.map((o) => ('err' in o ? `err ${(o.err as Error).message}` : o.value)), ['A1', 'err bad-a2', 'A3'], 'each send its own outcome, in order');
  assert.equal(x, 'X');
  assert.deepEqual(run2, [{ value: 'A4' }, { value: 'A5' }]);
  assert.deepEqual(run3, [{ value: 'Y1' }, { value: 'Y2' }]);
  assert.equal(commit.waiting, 0);
});

test('submitMany never rejects: a batch that fails whole gives each of its sends that error', async () => {
  const boom = new Error('disk gone');
  const commit = new GroupCommit<string, string>(async () => { throw boom; }, 10, 1);
  const [run, single] = await Promise.all([commit.submitMany(['a', 'b']), commit.submit('c').then(() => 'stored', (err: unknown) => err)]);
  assert.deepEqual(run, [{ err: boom }, { err: boom }]);
  assert.equal(single, boom);
});

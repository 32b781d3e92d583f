/** GroupCommit's `together` token: a group submitted one after another is never split between batches. */
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

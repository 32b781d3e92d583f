/**
 * GroupCommit with two batches in flight (SQLite: one written while the other waits for its WAL
 * sync). Batches are written one at a time in cut order, answered in that order, and a second one
 * starts during the first's wait only when a full batch is queued.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GroupCommit } from '../../src/store/group-commit.ts';

/** A run whose batches each wait for their own release after (optionally) saying `written`. */
function controlled(opts: { signalsWritten: boolean }) {
  const log: string[] = [];
  const releases: (() => void)[] = [];
  let writing = 0;
  let overlapped = false;
  const run = async (batch: string[], written: () => void) => {
    const n = releases.length + 1;
    writing += 1;
    if (writing > 1) overlapped = true;
    log.push(`write ${n}: ${batch.join(',')}`);
    const released = new Promise<void>((resolve) => releases.push(resolve));
    await Promise.resolve(); // the write takes a moment
    writing -= 1;
    if (opts.signalsWritten) written();
    await released; // the durability wait
    log.push(`done ${n}`);
    return batch.map((value) => ({ value }));
  };
  return { log, releases, run, overlapped: () => overlapped };
}

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

test('a second batch is written while the first waits, once a full batch is queued; answers come in batch order', async () => {
  const c = controlled({ signalsWritten: true });
  const commit = new GroupCommit<string, string>(c.run, 2, 2);
  const answered: string[] = [];
  const submit = (v: string) => commit.submit(v).then((x) => answered.push(x));
  const first = [submit('a'), submit('b')];
  await turn();
  assert.deepEqual(c.log, ['write 1: a,b']);
  const second = [submit('c'), submit('d'), submit('e')]; // a full batch (2) and one more
  await turn();
  await turn();
  assert.deepEqual(c.log, ['write 1: a,b', 'write 2: c,d'], 'the second batch is written during the first one\'s wait');
  assert.equal(commit.waiting, 1);
  c.releases[1]!(); // the second batch's wait ends first …
  await turn();
  assert.deepEqual(answered, [], '… but its sends are answered only after the first batch\'s');
  c.releases[0]!();
  await Promise.all([...first, ...second.slice(0, 2)]);
  assert.deepEqual(answered, ['a', 'b', 'c', 'd']);
  await turn();
  assert.deepEqual(c.log.slice(-1), ['write 3: e']);
  c.releases[2]!();
  await second[2];
  assert.deepEqual(answered, ['a', 'b', 'c', 'd', 'e']);
  assert.equal(c.overlapped(), false, 'never two batches being written at once');
});

test('below a full batch the queue waits for the batch in flight, so it grows into one batch', async () => {
  const c = controlled({ signalsWritten: true });
  const commit = new GroupCommit<string, string>(c.run, 4, 2);
  const sent = [commit.submit('a')];
  await turn();
  sent.push(commit.submit('b'), commit.submit('c'));
  await turn();
  await turn();
  assert.deepEqual(c.log, ['write 1: a'], 'two queued of a batch of four: no second batch yet');
  sent.push(commit.submit('d'));
  await turn();
  assert.deepEqual(c.log, ['write 1: a']);
  c.releases[0]!();
  await sent[0];
  await turn();
  assert.deepEqual(c.log, ['write 1: a', 'done 1', 'write 2: b,c,d']);
  c.releases[1]!();
  assert.deepEqual(await Promise.all(sent), ['a', 'b', 'c', 'd']);
});

test('a run that never says written keeps the next batch from starting until it ends (MySQL, hooks)', async () => {
  const c = controlled({ signalsWritten: false });
  const commit = new GroupCommit<string, string>(c.run, 1, 2);
  const sent = [commit.submit('a'), commit.submit('b'), commit.submit('c')];
  await turn();
  await turn();
  assert.deepEqual(c.log, ['write 1: a'], 'full batches queued, but the first is still being written');
  c.releases[0]!();
  await sent[0];
  await turn();
  assert.deepEqual(c.log, ['write 1: a', 'done 1', 'write 2: b']);
  c.releases[1]!();
  await sent[1];
  await turn();
  c.releases[2]!();
  assert.deepEqual(await Promise.all(sent), ['a', 'b', 'c']);
  assert.equal(c.overlapped(), false);
});

test('a batch that fails in its wait fails its own sends only, and the batch after it still answers', async () => {
  const boom = new Error('sync failed');
  let n = 0;
  const commit = new GroupCommit<string, string>(async (batch, written) => {
    const k = ++n;
    written();
    await Promise.resolve();
    if (k === 1) throw boom;
    return batch.map((value) => ({ value }));
  }, 1, 2);
  const out = await Promise.all(['a', 'b'].map((v) => commit.submit(v).then((x) => x, (err: unknown) => err)));
  assert.deepEqual(out, [boom, 'b']);
});

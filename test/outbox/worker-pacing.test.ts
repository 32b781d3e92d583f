/**
 * The webhook worker under a stream of commits: every send batch wakes it, and it runs at most one
 * round per `minRoundGapMs` (each round is a dispatch transaction of its own), not one per wake.
 * A busy machine can only make rounds fewer, so the bound holds whatever else runs.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createOutboxWorker } from '../../src/outbox/worker.ts';
import { backends } from '../helpers/backends.ts';
import { openHarness, type DomainHarness } from '../domain/harness.ts';
import { subscribe } from './subscribe.ts';

const quiet = { warn() {}, error() {}, info() {}, debug() {} };

for (const backend of backends()) {
  describe(`outbox worker pacing (${backend.name})`, () => {
    let h: DomainHarness;
    before(async () => { h = await openHarness(backend); });
    after(async () => { await h?.close(); });

    test('a thousand wakes in a burst run a round per gap, and the events are still dispatched', async () => {
      const t = await h.tenant();
      await subscribe(h.db, t.id); // something to dispatch: events are written for tenants with an endpoint
      const [a] = await Promise.all([t.user('a'), t.user('b')]);
      const { room } = await h.domain.rooms.create(a, { type: 'group', members: ['b'] });
      let rounds = 0;
      const gapMs = 40;
      const worker = createOutboxWorker({
        db: h.db, log: quiet as never, timeoutMs: 1000, allowPrivate: true, leaseMs: 60_000, pollMs: 60_000, concurrency: 4,
        minRoundGapMs: gapMs, onRound: () => { rounds++; },
      });
      const started = performance.now();
      worker.start();
      let wakes = 0;
      while (performance.now() - started < 300 || wakes < 1000) {
        worker.wake();
        wakes++;
        if (wakes % 50 === 0) await h.domain.messages.send(a, room.id, { content: `m${wakes}` }); // something to dispatch
        await new Promise((resolve) => setImmediate(resolve));
      }
      const elapsed = performance.now() - started;
      await worker.stop();
      assert.ok(rounds >= 1, 'the worker ran');
      assert.ok(rounds <= elapsed / gapMs + 2, `${rounds} rounds in ${elapsed.toFixed(0)} ms for ${wakes} wakes: more than one per ${gapMs} ms`);
      // Paced, not dropped: a last round after the burst dispatches whatever the burst committed.
      await worker.runOnce();
      const left = await h.db('outbox_events').where({ tenant_id: t.id }).whereNull('dispatched_at').count({ n: '*' }).first();
      assert.equal(Number(left?.n), 0);
    });
  });
}

/**
 * A pipelined send (ws/dispatch.ts) commits with its run, then waits for the send before it to be
 * answered before it is acknowledged and announced. Meanwhile its seq is a gap in the room's live
 * stream. The node fills a gap that outlives gapMs from the database; it must leave this one open
 * (bus/unannounced.ts), or the sender would get its own message.created before its message.ack.
 * Here the send's turn is held open by the test, far longer than the node's gapMs.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { UserCaller } from '../../src/domain/index.ts';
import { noObserver, type GapOutcome } from '../../src/ws/observer.ts';
import { backends } from '../helpers/backends.ts';
import { startWorld } from './harness.ts';

/** Polls a condition of the server's state (no frame to wait for). */
async function until(what: string, cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

for (const backend of backends()) {
  describe(`ws: a committed send waiting for its turn [${backend.name}]`, () => {
    test('its seq is not filled from the database before it is acknowledged; later messages wait behind it', async (t) => {
      const gaps: GapOutcome[] = [];
      const w = await startWorld(t, backend, {}, { gapMs: 20, unannouncedMaxWaitMs: 60_000, observer: { ...noObserver, gap: (outcome) => void gaps.push(outcome) } });
      const [alice] = await w.users('alice', 'bob');
      const room = await w.room(alice!, ['bob']);
      const watcher = await w.connect('alice');
      await watcher.first('sync.complete', (f) => f.room_id === room);

      const { domain, parts } = w.server.running;
      const tenantCaller = { kind: 'tenant', tenantId: w.tenant.id } as const;
      const bob: UserCaller = { kind: 'user', tenantId: w.tenant.id, user: await domain.users.get(tenantCaller, 'bob'), via: 'key' };
      let open!: () => void;
      const turn = new Promise<void>((resolve) => (open = resolve));
      let createdBeforeAck = -1;
      const held = domain.messages.send(bob, room, { content: 'held back', client_msg_id: 'held-1' }, {
        turn, onStored: () => void (createdBeforeAck = watcher.all('message.created').length),
      });
      await until('the send to commit', () => parts.bus.unannounced.lowest(w.tenant.id, room, 1, 1) === 1);

      const later = await alice!.POST('/v1/rooms/{room_id}/messages', { body: { content: 'later' } , params: { path: { room_id: room } } });
      assert.equal(later.response.status, 201, JSON.stringify(later.error));
      assert.equal(later.data!.data.seq, 2);
      await until('two gap waits to pass', () => gaps.length >= 2);
      assert.deepEqual(gaps, gaps.map(() => 'waiting'), 'the gap was left open every time, never filled or skipped');
      assert.deepEqual(watcher.all('message.created'), [], 'seq 1 is not published from the database; seq 2 waits behind it');

      open(); // the send before it was answered: acknowledge, then announce
      const result = await held;
      assert.deepEqual([result.created, result.message.seq], [true, 1]);
      assert.equal(createdBeforeAck, 0, 'no message.created had arrived when the send was acknowledged');
      await watcher.waitUntil(() => watcher.all('message.created').length >= 2);
      assert.deepEqual(watcher.all('message.created').map((f) => [f.message.seq, f.message.content]), [[1, 'held back'], [2, 'later']]);
      assert.equal(parts.bus.unannounced.lowest(w.tenant.id, room, 1, Number.MAX_SAFE_INTEGER), undefined, 'nothing held any more');
      watcher.assertValid();
    });
  });
}

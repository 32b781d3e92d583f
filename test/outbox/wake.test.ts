/**
 * Which bus events wake the webhook worker (src/outbox/wake.ts): a message this process stored
 * wakes it only when its send batch wrote an outbox row for it, so a stream of sends for tenants
 * without endpoints costs the worker nothing; an event from another process, or of another kind,
 * still wakes it; presence never does. Real sends through the domain and the group commit, on
 * both backends; the decisions are checked against the outbox rows actually written.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { MessageEvent } from '../../src/domain/events.ts';
import { wakesOutboxWorker } from '../../src/outbox/wake.ts';
import { backends } from '../helpers/backends.ts';
import { openHarness, type DomainHarness } from '../domain/harness.ts';
import { subscribe } from './subscribe.ts';

for (const backend of backends()) {
  describe(`outbox worker wakes (${backend.name})`, () => {
    let h: DomainHarness;
    before(async () => { h = await openHarness(backend); });
    after(async () => { await h?.close(); });

    test('a stored message wakes the worker exactly when its batch wrote its outbox row', async () => {
      const quiet = await h.tenant('no endpoint');
      const hooked = await h.tenant('endpoint');
      const filtered = await h.tenant('endpoint for another room');
      const rooms = new Map<string, { caller: Awaited<ReturnType<typeof quiet.user>>; room: string }>();
      for (const t of [quiet, hooked, filtered]) {
        const [a] = await Promise.all([t.user('a'), t.user('b')]);
        const { room } = await h.domain.rooms.create(a, { type: 'group', members: ['b'] });
        rooms.set(t.id, { caller: a, room: room.id });
      }
      await subscribe(h.db, hooked.id);
      await subscribe(h.db, filtered.id, { room_ids: ['some-other-room'] });

      // One burst across the three tenants: the group commit stores them in shared batches.
      const sends = [quiet, hooked, filtered, quiet, hooked, quiet].map((t, i) => {
        const { caller, room } = rooms.get(t.id)!;
        return h.domain.messages.send(caller, room, { content: `m${i}` }).then((r) => ({ tenant: t.id, id: r.message.id }));
      });
      const sent = await Promise.all(sends);
      const created = h.events.filter((e): e is MessageEvent => e.type === 'message.created');
      const rows = await h.db('outbox_events').where({ type: 'message.created' }).select('tenant_id', 'payload');
      const written = new Set(rows.map((r) => (JSON.parse(r.payload) as { message: { id: string } }).message.id));
      for (const s of sent) {
        const evt = created.find((e) => e.message.id === s.id);
        assert.ok(evt, `message ${s.id} was announced`);
        assert.equal(written.has(s.id), s.tenant === hooked.id, `an outbox row for ${s.id} iff its tenant has an endpoint for its room`);
        assert.equal(wakesOutboxWorker(evt, true), written.has(s.id), `this process's message.created wakes the worker iff its row was written (${s.tenant === hooked.id ? 'endpoint' : 'none'})`);
        // The same event from another process (parsed anew from the bus): it may have a row there.
        assert.equal(wakesOutboxWorker(JSON.parse(JSON.stringify(evt)), false), true);
      }
      assert.equal(written.size, 2);
    });

    test('other events wake it, presence does not', () => {
      const member = { type: 'member.left', tenant_id: 't', room_id: 'r', user_id: 'u' } as const;
      assert.equal(wakesOutboxWorker(member, true), true);
      assert.equal(wakesOutboxWorker(member, false), true);
      const presence = { type: 'presence', tenant_id: 't', room_id: 'r', user_id: 'u', status: 'online' } as never;
      assert.equal(wakesOutboxWorker(presence, true), false);
      assert.equal(wakesOutboxWorker(presence, false), false);
    });
  });
}

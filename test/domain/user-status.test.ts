/** user.online / user.offline outbox rows: transitions recorded together share one write, in call order. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { backends } from '../helpers/backends.ts';
import { subscribe } from '../outbox/subscribe.ts';
import { openHarness, type DomainHarness } from './harness.ts';

for (const backend of backends()) {
  describe(`user status events (${backend.name})`, () => {
    let h: DomainHarness;
    before(async () => { h = await openHarness(backend); });
    after(async () => { await h?.close(); });

    test('each record() resolves once its row is stored; rows keep the order of the calls', async () => {
      const t = await h.tenant();
      await subscribe(h.db, t.id); // events are written for tenants with an endpoint (store/outbox.ts)
      const calls: [string, 'online' | 'offline'][] = [['u1', 'online'], ['u2', 'online'], ['u1', 'offline'], ['u3', 'online']];
      await Promise.all(calls.map(([user, status]) => h.domain.userStatus.record(t.id, user, status)));
      const rows = await h.db('outbox_events').where({ tenant_id: t.id }).orderBy('pk').select('type', 'payload');
      assert.deepEqual(rows.map((r) => [JSON.parse(r.payload).user_id, r.type]), calls.map(([user, status]) => [user, `user.${status}`]));
      // the next transition is a new batch, written too
      await h.domain.userStatus.record(t.id, 'u2', 'offline');
      assert.equal(await h.db('outbox_events').where({ tenant_id: t.id }).count({ n: '*' }).then(([r]) => Number(r!.n)), 5);
    });
  });
}

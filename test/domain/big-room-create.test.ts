import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { backends } from '../helpers/backends.ts';
import { subscribe } from '../outbox/subscribe.ts';
import { openHarness, type DomainHarness } from './harness.ts';

for (const backend of backends()) {
  describe(`a room created with the most members createRoom takes (${backend.name})`, () => {
    let h: DomainHarness;
    before(async () => { h = await openHarness(backend); });
    after(async () => { await h?.close(); });

    test('1,000 members at once: stored, with one member.joined outbox event each', async () => {
      const t = await h.tenant();
      await subscribe(h.db, t.id); // events are written for tenants with an endpoint (store/outbox.ts)
      const owner = await t.user('owner');
      const ids = Array.from({ length: 1000 }, (_, i) => `m${i}`);
      for (let i = 0; i < ids.length; i += 100) await Promise.all(ids.slice(i, i + 100).map((id) => t.user(id)));
      const { room } = await h.domain.rooms.create(owner, { type: 'group', name: 'big', members: ids });
      const [{ n }] = await h.db('room_members').where({ room_id: room.id }).count({ n: '*' });
      assert.equal(Number(n), 1001);
      const [{ e }] = await h.db('outbox_events').where({ room_id: room.id, type: 'member.joined' }).count({ e: '*' });
      assert.equal(Number(e), 1001);
    });
  });
}

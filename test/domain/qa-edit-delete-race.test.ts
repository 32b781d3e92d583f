/**
 * QA: an edit that races a delete must never put content back into a tombstone. On SQLite the
 * single connection runs the two calls' queries interleaved in a fixed order (delete's UPDATE
 * first, then edit's), which is exactly the losing interleaving; on MySQL the invariant must hold too.
 */
import { describe, before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import { backends } from '../helpers/backends.ts';
import { openHarness, type DomainHarness } from './harness.ts';

for (const backend of backends()) {
  describe(`qa: edit vs delete [${backend.name}]`, () => {
    let h: DomainHarness;
    before(async () => { h = await openHarness(backend); });
    after(() => h.close());

    test('delete and edit sent together: a deleted message stays an empty tombstone', async () => {
      const t = await h.tenant();
      const alice = await t.user('alice');
      const { room } = await h.domain.rooms.create(alice, { type: 'group', members: [] });
      for (let i = 0; i < 5; i++) {
        const { message } = await h.domain.messages.send(alice, room.id, { content: `m${i}`, meta: { i } });
        const [removed, edited] = await Promise.allSettled([
          h.domain.messages.remove(alice, room.id, message.id),
          h.domain.messages.edit(alice, room.id, message.id, { content: 'edited', meta: { e: true } }),
        ]);
        assert.equal(removed.status, 'fulfilled');
        if (edited.status === 'rejected') assert.equal((edited.reason as { code?: string }).code, 'CONFLICT');
        const stored = await h.domain.messages.get(alice, room.id, message.id);
        assert.ok(stored.deleted_at, 'deleted');
        assert.deepEqual([stored.content, stored.meta], ['', null], 'no content resurrected in the tombstone');
      }
    });
  });
}

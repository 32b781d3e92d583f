/**
 * QA: deleting a user tells the rooms they were in (member.left, or room.deleted for a room left
 * empty) after the change has committed, and hands owned rooms on in one transaction.
 */
import { describe, before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import { backends } from '../helpers/backends.ts';
import { openHarness, rejectsWith, type DomainHarness } from './harness.ts';

for (const backend of backends()) {
  describe(`qa: user removal [${backend.name}]`, () => {
    let h: DomainHarness;
    before(async () => { h = await openHarness(backend); });
    after(() => h.close());

    test('member.left for each room kept, room.deleted for each room left empty, nothing for other tenants', async () => {
      const t = await h.tenant();
      const [owner, b] = await Promise.all([t.user('owner'), t.user('b')]);
      const shared = (await h.domain.rooms.create(owner, { type: 'group', members: ['b'] })).room;
      const alone = (await h.domain.rooms.create(owner, { type: 'channel', members: [] })).room;
      const dm = (await h.domain.rooms.create(owner, { type: 'dm', members: ['b'] })).room;
      h.events.length = 0;
      await h.domain.users.remove(t.caller, 'owner');
      // The user's sessions end (a bus signal, no room); the rooms hear of it after the commit.
      const revoked = h.events.filter((e) => e.type === 'credentials.revoked');
      assert.deepEqual(revoked.map((e) => e.type === 'credentials.revoked' && e.scope), [{ kind: 'user', user_id: 'owner' }]);
      const seen = h.events.filter((e) => e.type !== 'credentials.revoked').map((e) => [e.type, e.room_id, 'user_id' in e ? e.user_id : null]).sort();
      assert.deepEqual(seen, [
        ['member.left', dm.id, 'owner'],
        ['member.left', shared.id, 'owner'],
        ['room.deleted', alone.id, null],
      ].sort());
      assert.deepEqual((await h.domain.rooms.listMembers(b, shared.id)).items.map((m) => [m.user_id, m.role]), [['b', 'owner']]);
      assert.deepEqual((await h.domain.rooms.listMembers(b, dm.id)).items.map((m) => [m.user_id, m.role]), [['b', 'member']]);
      assert.equal((await h.db('rooms').where({ id: alone.id })).length, 0);
      await rejectsWith(h.domain.users.remove(t.caller, 'owner'), 'NOT_FOUND');
    });

    test('an admin still cannot delete a superadmin, and a refused delete changes nothing', async () => {
      const t = await h.tenant();
      const [admin, sup] = await Promise.all([t.user('adm', 'admin'), t.user('sup', 'superadmin')]);
      const { room } = await h.domain.rooms.create(sup, { type: 'group', members: ['adm'] });
      await rejectsWith(h.domain.users.remove(admin, 'sup'), 'AUTHORIZATION_ERROR');
      assert.deepEqual((await h.domain.rooms.listMembers(admin, room.id)).items.map((m) => [m.user_id, m.role]).sort(), [['adm', 'member'], ['sup', 'owner']]);
    });
  });
}

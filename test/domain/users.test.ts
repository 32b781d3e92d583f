import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { backends } from '../helpers/backends.ts';
import { openHarness, rejectsWith, type DomainHarness } from './harness.ts';

const ALL = { can_send_message: true, can_receive_message: true, can_delete_message: true, can_edit_message: true, can_archive_conversation: true };
const BASIC = { ...ALL, can_delete_message: false, can_edit_message: false, can_archive_conversation: false };

for (const backend of backends()) {
  describe(`users (${backend.name})`, () => {
    let h: DomainHarness;
    before(async () => { h = await openHarness(backend); });
    after(async () => { await h?.close(); });

    test('permissions default by role; explicit flags override', async () => {
      const t = await h.tenant();
      const d = h.domain.users;
      assert.deepEqual((await d.create(t.caller, { id: 'u', username: 'u' })).permissions, BASIC);
      assert.deepEqual((await d.create(t.caller, { id: 's', username: 's', role: 'staff' })).permissions, BASIC);
      assert.deepEqual((await d.create(t.caller, { id: 'm', username: 'm', role: 'moderator' })).permissions, ALL);
      const custom = await d.create(t.caller, { id: 'x', username: 'x', role: 'admin', permissions: { can_send_message: false } });
      assert.deepEqual(custom.permissions, { ...ALL, can_send_message: false });
      // A role change resets flags to the new role's defaults.
      assert.deepEqual((await d.update(t.caller, 'x', { role: 'user' })).permissions, BASIC);
      assert.deepEqual((await d.update(t.caller, 'x', { permissions: { can_edit_message: true } })).permissions, { ...BASIC, can_edit_message: true });
    });

    test('input rules and CONFLICT for duplicate id or username', async () => {
      const t = await h.tenant();
      const d = h.domain.users;
      const alice = await d.create(t.caller, { id: 'alice@x.io', username: 'alice', email: 'a@x.io', display_name: 'Alice' });
      assert.deepEqual([alice.id, alice.email, alice.display_name, alice.role], ['alice@x.io', 'a@x.io', 'Alice', 'user']);
      assert.match(alice.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      assert.equal((await rejectsWith(d.create(t.caller, { id: 'alice@x.io', username: 'other' }), 'CONFLICT')).details[0]?.field, 'id');
      assert.equal((await rejectsWith(d.create(t.caller, { id: 'al2', username: 'alice' }), 'CONFLICT')).details[0]?.field, 'username');
      // Ids compare exactly on both backends (MySQL tables use a binary collation).
      await d.create(t.caller, { id: 'ALICE@x.io', username: 'ALICE' });
      for (const id of ['', 'has space', 'x'.repeat(129), 'slash/no']) {
        assert.equal((await rejectsWith(d.create(t.caller, { id, username: 'n' + id.length }), 'VALIDATION_ERROR')).details[0]?.field, 'id');
      }
      await rejectsWith(d.create(t.caller, { id: 'e', username: 'e', email: 'not-an-email' }), 'VALIDATION_ERROR');
      await rejectsWith(d.create(t.caller, { id: 'r', username: 'r', role: 'god' as never }), 'VALIDATION_ERROR');
      await rejectsWith(d.create(t.caller, { id: 'p', username: 'p', permissions: { can_fly: true } as never }), 'VALIDATION_ERROR');
      await d.create(t.caller, { id: 'bob', username: 'bob' });
      await rejectsWith(d.update(t.caller, 'bob', { username: 'alice' }), 'CONFLICT');
    });

    test('only the tenant key or an admin sets role or permissions; admins cannot grant superadmin', async () => {
      const t = await h.tenant();
      const d = h.domain.users;
      const [user, admin, superadmin] = await Promise.all([t.user('user'), t.user('admin', 'admin'), t.user('root', 'superadmin')]);
      await t.user('other');
      // A user may edit their own profile, but not their role or flags, nor other users.
      const self = await d.update(user, 'user', { display_name: 'Me', email: 'me@x.io' });
      assert.deepEqual([self.display_name, self.email], ['Me', 'me@x.io']);
      await rejectsWith(d.update(user, 'user', { role: 'admin' }), 'AUTHORIZATION_ERROR');
      await rejectsWith(d.update(user, 'user', { permissions: { can_delete_message: true } }), 'AUTHORIZATION_ERROR');
      await rejectsWith(d.update(user, 'other', { display_name: 'x' }), 'AUTHORIZATION_ERROR');
      await rejectsWith(d.create(user, { id: 'new', username: 'new' }), 'AUTHORIZATION_ERROR');
      await rejectsWith(d.remove(user, 'other'), 'AUTHORIZATION_ERROR');
      assert.equal((await d.get(t.caller, 'user')).role, 'user');
      // Admins manage users, but never superadmins.
      assert.equal((await d.update(admin, 'other', { role: 'moderator' })).role, 'moderator');
      assert.equal((await d.create(admin, { id: 'adm2', username: 'adm2', role: 'admin' })).role, 'admin');
      await rejectsWith(d.update(admin, 'other', { role: 'superadmin' }), 'AUTHORIZATION_ERROR');
      await rejectsWith(d.create(admin, { id: 'su', username: 'su', role: 'superadmin' }), 'AUTHORIZATION_ERROR');
      await rejectsWith(d.update(admin, 'root', { display_name: 'x' }), 'AUTHORIZATION_ERROR');
      await rejectsWith(d.remove(admin, 'root'), 'AUTHORIZATION_ERROR');
      // Superadmins and the tenant key may do all of it.
      assert.equal((await d.update(superadmin, 'other', { role: 'superadmin' })).role, 'superadmin');
      assert.equal((await d.update(t.caller, 'user', { role: 'admin' })).role, 'admin');
      await d.remove(admin, 'adm2');
      await rejectsWith(d.get(t.caller, 'adm2'), 'NOT_FOUND');
    });

    test('list is oldest first and paginated; resolve finds only the tenant\'s users', async () => {
      const t = await h.tenant();
      for (const id of ['c', 'a', 'b', 'e', 'd']) {
        await h.domain.users.create(t.caller, { id, username: id });
        h.clock.advance(1);
      }
      const p1 = await h.domain.users.list(t.caller, { limit: 2 });
      const p2 = await h.domain.users.list(t.caller, { limit: 2, cursor: p1.next_cursor! });
      const p3 = await h.domain.users.list(t.caller, { limit: 2, cursor: p2.next_cursor! });
      assert.deepEqual([...p1.items, ...p2.items, ...p3.items].map((u) => u.id), ['c', 'a', 'b', 'e', 'd']);
      assert.equal(p3.next_cursor, null);
      assert.equal((await h.domain.users.resolve(t.id, 'a'))?.id, 'a');
      assert.equal(await h.domain.users.resolve(t.id, 'zz'), null);
      assert.equal(await h.domain.users.resolve(t.id, 'bad id!'), null);
      const other = await h.tenant();
      assert.equal(await h.domain.users.resolve(other.id, 'a'), null);
    });

    test('deleting a user removes their memberships and tokens but keeps their messages', async () => {
      const t = await h.tenant();
      const [a] = await Promise.all([t.user('a'), t.user('b')]);
      const { room } = await h.domain.rooms.create(a, { type: 'group', members: ['b'] });
      const { message } = await h.domain.messages.send(a, room.id, { content: 'still here' });
      const token = await h.domain.tokens.mint(t.caller, 'a', {});
      await h.domain.users.remove(t.caller, 'a');
      await rejectsWith(h.domain.tokens.verify(token.token), 'AUTHENTICATION_ERROR');
      const b = { kind: 'user' as const, tenantId: t.id, user: await h.domain.users.get(t.caller, 'b'), via: 'key' as const };
      const [kept] = (await h.domain.messages.list(b, room.id, {})).items;
      assert.deepEqual([kept?.id, kept?.sender_id], [message.id, 'a']);
      assert.deepEqual((await h.domain.rooms.listMembers(b, room.id)).items.map((m) => m.user_id), ['b']);
      await rejectsWith(h.domain.users.remove(t.caller, 'a'), 'NOT_FOUND');
    });
  });
}

/**
 * QA: the largest room the API accepts in one create (1000 members, the schema's maxItems) is
 * stored on every backend; SQLite caps one compound INSERT at 500 rows, so inserts are chunked.
 */
import { describe, before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import { backends } from '../helpers/backends.ts';
import { openHarness, type DomainHarness } from './harness.ts';

for (const backend of backends()) {
  describe(`qa: big rooms [${backend.name}]`, () => {
    let h: DomainHarness;
    before(async () => { h = await openHarness(backend); });
    after(() => h.close());

    test('a room created with 1000 members has all of them, and they all see it', async () => {
      const t = await h.tenant();
      const owner = await t.user('owner');
      const ids = Array.from({ length: 1000 }, (_, i) => `m${String(i).padStart(4, '0')}`);
      // Setup only: users straight into the table (the subject is the room create below).
      const now = Date.now();
      const perms = JSON.stringify({ can_send_message: true, can_receive_message: true, can_delete_message: false, can_edit_message: false, can_archive_conversation: false });
      for (let i = 0; i < ids.length; i += 100) {
        await h.db('users').insert(ids.slice(i, i + 100).map((id) => ({
          tenant_id: t.id, id, username: id, email: null, display_name: null, role: 'user', permissions: perms, created_at: now, updated_at: now,
        })));
      }
      const { room, created } = await h.domain.rooms.create(owner, { type: 'channel', name: 'everyone', members: ids });
      assert.equal(created, true);
      assert.equal(room.member_count, 1001);
      assert.equal(room.members.length, 100, 'a single-room response embeds the first 100 members');
      const all: string[] = [];
      let cursor: string | undefined;
      for (let guard = 0; guard < 20; guard++) {
        const page = await h.domain.rooms.listMembers(owner, room.id, { limit: 200, cursor });
        all.push(...page.items.map((m) => m.user_id));
        cursor = page.next_cursor ?? undefined;
        if (!cursor) break;
      }
      assert.deepEqual(all.sort(), ['owner', ...ids].sort());
      const last = { kind: 'user' as const, tenantId: t.id, user: await h.domain.users.get(t.caller, 'm0999'), via: 'key' as const };
      assert.equal((await h.domain.rooms.get(last, room.id)).my_role, 'member');
    });
  });
}

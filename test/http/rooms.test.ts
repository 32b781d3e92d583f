/**
 * Rooms and members: the creator owns the room; one DM per pair, even under concurrent creates;
 * my rooms list carries last_seq, unread_count and the last message; owners and moderators
 * manage members and names; members may leave; deleted rooms are gone.
 */
import { describe, before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import { backends } from '../helpers/backends.ts';
import { startTestServer, type TestServer, type TestTenant } from '../helpers/server.ts';
import type { ApiClient } from '../helpers/client.ts';

for (const backend of backends()) {
  describe(`rooms [${backend.name}]`, () => {
    let s: TestServer;
    let t: TestTenant;
    let alice: ApiClient;
    let bob: ApiClient;
    let carol: ApiClient;
    before(async () => {
      s = await startTestServer(backend, {}, { ws: false });
      t = await s.tenant();
      alice = await t.user('alice');
      bob = await t.user('bob');
      carol = await t.user('carol');
    });
    after(() => s.close());

    test('a group room: creator is owner, members listed, get shows members', async () => {
      const res = await alice.POST('/v1/rooms', { body: { type: 'group', name: 'team', members: ['bob'] } });
      assert.equal(res.response.status, 201);
      const room = res.data!.data;
      assert.equal(room.created_by, 'alice');
      assert.equal(room.my_role, 'owner');
      assert.equal(room.last_seq, 0);
      assert.deepEqual(room.members.map((m) => [m.user_id, m.role]).sort(), [['alice', 'owner'], ['bob', 'member']]);
      const got = await bob.GET('/v1/rooms/{room_id}', { params: { path: { room_id: room.id } } });
      assert.equal(got.data!.data.name, 'team');
      assert.equal(got.data!.data.my_role, 'member');
    });

    test('unknown members are a VALIDATION_ERROR naming them', async () => {
      const res = await alice.POST('/v1/rooms', { body: { type: 'group', name: 'x', members: ['bob', 'ghost'] } });
      assert.equal(res.response.status, 400);
      assert.match(JSON.stringify(res.error!.error.details), /ghost/);
    });

    test('exactly one DM per pair, even under concurrent creates from both sides', async () => {
      const d1 = await t.user('dm1');
      const d2 = await t.user('dm2');
      const results = await Promise.all(Array.from({ length: 10 }, (_, i) =>
        (i % 2 ? d1 : d2).POST('/v1/rooms', { body: { type: 'dm', members: [i % 2 ? 'dm2' : 'dm1'] } })));
      const ids = new Set(results.map((r) => r.data!.data.id));
      assert.equal(ids.size, 1);
      assert.equal(results.filter((r) => r.response.status === 201).length, 1);
      assert.equal(results.filter((r) => r.response.status === 200).length, 9);
      const bad = await d1.POST('/v1/rooms', { body: { type: 'dm', members: ['dm2', 'alice'] } });
      assert.equal(bad.response.status, 400);
    });

    test('my rooms list: last_seq, unread_count and last_message, newest activity first', async () => {
      const u = await t.user('lister');
      const quiet = (await u.POST('/v1/rooms', { body: { type: 'group', name: 'quiet', members: ['alice'] } })).data!.data.id;
      const busy = (await u.POST('/v1/rooms', { body: { type: 'group', name: 'busy', members: ['alice'] } })).data!.data.id;
      for (const content of ['1', '2', '3']) {
        await alice.POST('/v1/rooms/{room_id}/messages', { params: { path: { room_id: busy } }, body: { content } });
      }
      await u.POST('/v1/rooms/{room_id}/messages', { params: { path: { room_id: busy } }, body: { content: 'mine' } });
      const list = await u.GET('/v1/rooms', {});
      const items = list.data!.data.items;
      assert.equal(items[0].id, busy);
      assert.equal(items[0].last_seq, 4);
      assert.equal(items[0].unread_count, 3, 'my own message is not unread');
      assert.equal(items[0].last_message!.content, 'mine');
      const q = items.find((r) => r.id === quiet)!;
      assert.equal(q.unread_count, 0);
      assert.equal(q.last_message, null);
      await u.POST('/v1/rooms/{room_id}/read', { params: { path: { room_id: busy } }, body: { seq: 2 } });
      const after = await u.GET('/v1/rooms', {});
      assert.equal(after.data!.data.items.find((r) => r.id === busy)!.unread_count, 1);
    });

    test('pagination walks every room once', async () => {
      const p = await t.user('pager');
      for (let i = 0; i < 5; i++) await p.POST('/v1/rooms', { body: { type: 'group', name: `p${i}`, members: [] } });
      const seen: string[] = [];
      let cursor: string | undefined;
      for (let guard = 0; guard < 10; guard++) {
        const page = await p.GET('/v1/rooms', { params: { query: { limit: 2, cursor } } });
        seen.push(...page.data!.data.items.map((r) => r.id));
        cursor = page.data!.data.next_cursor ?? undefined;
        if (!cursor) break;
      }
      assert.equal(seen.length, 5);
      assert.equal(new Set(seen).size, 5);
    });

    test('members: owner adds and removes, members cannot, anyone may leave', async () => {
      const room = (await alice.POST('/v1/rooms', { body: { type: 'group', name: 'm', members: ['bob'] } })).data!.data.id;
      const byMember = await bob.POST('/v1/rooms/{room_id}/members', { params: { path: { room_id: room } }, body: { user_id: 'carol' } });
      assert.equal(byMember.response.status, 403);
      const added = await alice.POST('/v1/rooms/{room_id}/members', { params: { path: { room_id: room } }, body: { user_id: 'carol', role: 'moderator' } });
      assert.equal(added.response.status, 201);
      assert.equal(added.data!.data.role, 'moderator');
      const again = await alice.POST('/v1/rooms/{room_id}/members', { params: { path: { room_id: room } }, body: { user_id: 'carol' } });
      assert.equal(again.response.status, 409);
      const list = await carol.GET('/v1/rooms/{room_id}/members', { params: { path: { room_id: room } } });
      assert.equal(list.data!.data.items.length, 3);
      const kick = await carol.DELETE('/v1/rooms/{room_id}/members/{user_id}', { params: { path: { room_id: room, user_id: 'bob' } } });
      assert.equal(kick.response.status, 200);
      const gone = await bob.GET('/v1/rooms/{room_id}', { params: { path: { room_id: room } } });
      assert.equal(gone.response.status, 404);
      const leave = await carol.DELETE('/v1/rooms/{room_id}/members/{user_id}', { params: { path: { room_id: room, user_id: 'carol' } } });
      assert.equal(leave.response.status, 200);
    });

    test('members page in join order; a room embeds at most 100 of them', async () => {
      const ids = Array.from({ length: 104 }, (_, i) => `crowd${String(i).padStart(3, '0')}`);
      for (const id of ids) await t.client.POST('/v1/users', { body: { id, username: id } });
      const created = await alice.POST('/v1/rooms', { body: { type: 'channel', name: 'crowd', members: ids } });
      const room = created.data!.data;
      assert.equal(room.member_count, 105);
      assert.equal(room.members.length, 100);
      const seen: string[] = [];
      let cursor: string | undefined;
      for (let guard = 0; guard < 10; guard++) {
        const page = await alice.GET('/v1/rooms/{room_id}/members', { params: { path: { room_id: room.id }, query: { limit: 40, cursor } } });
        seen.push(...page.data!.data.items.map((m) => m.user_id));
        cursor = page.data!.data.next_cursor ?? undefined;
        if (!cursor) break;
      }
      assert.equal(seen.length, 105);
      assert.deepEqual([...seen].sort(), ['alice', ...ids].sort());
      assert.equal(seen[0], 'alice', 'the creator joined first');
    });

    test('rename by owner only; delete by owner removes the room for everyone', async () => {
      const room = (await alice.POST('/v1/rooms', { body: { type: 'group', name: 'old', members: ['bob'] } })).data!.data.id;
      const byBob = await bob.PATCH('/v1/rooms/{room_id}', { params: { path: { room_id: room } }, body: { name: 'bob was here' } });
      assert.equal(byBob.response.status, 403);
      const renamed = await alice.PATCH('/v1/rooms/{room_id}', { params: { path: { room_id: room } }, body: { name: 'new' } });
      assert.equal(renamed.data!.data.name, 'new');
      const bobDelete = await bob.DELETE('/v1/rooms/{room_id}', { params: { path: { room_id: room } } });
      assert.equal(bobDelete.response.status, 403);
      const del = await alice.DELETE('/v1/rooms/{room_id}', { params: { path: { room_id: room } } });
      assert.equal(del.response.status, 200);
      const after = await bob.GET('/v1/rooms/{room_id}', { params: { path: { room_id: room } } });
      assert.equal(after.response.status, 404);
    });
  });
}

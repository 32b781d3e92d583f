/**
 * The admin panel through the generated client: staff see conversations they are not in (with
 * per-participant unread counts for DMs), a plain user gets 403 everywhere, the figures are exact
 * for the data this test made, and every admin read of a room the reader is not in is audited.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { backends } from '../helpers/backends.ts';
import type { ApiClient } from '../helpers/client.ts';
import { startTestServer } from '../helpers/server.ts';

async function send(c: ApiClient, roomId: string, content: string): Promise<number> {
  const res = await c.POST('/v1/rooms/{room_id}/messages', { params: { path: { room_id: roomId } }, body: { content } });
  assert.equal(res.response.status, 201, JSON.stringify(res.error));
  return res.data!.data.seq;
}

for (const backend of backends()) {
  describe(`admin panel [${backend.name}]`, () => {
    test('conversations, stats, user conversations, admin reads and the audit log', async (t) => {
      const s = await startTestServer(backend, {}, { ws: false });
      t.after(() => s.close());
      const tn = await s.tenant();
      const [alice, bob, carol] = [await tn.user('alice'), await tn.user('bob'), await tn.user('carol')];
      const sam = await tn.user('sam', { role: 'staff' });
      await tn.user('boss', { role: 'admin' });
      // A DM (alice 2, bob 1), a group (alice 1), two tickets (carol's urgent one; bob's low one, answered by sam).
      const dm = (await alice.POST('/v1/rooms', { body: { type: 'dm', members: ['bob'] } })).data!.data.id;
      await send(alice, dm, 'one');
      await send(alice, dm, 'two');
      await send(bob, dm, 'three');
      const group = (await alice.POST('/v1/rooms', { body: { type: 'group', name: 'g', members: ['bob', 'carol'] } })).data!.data.id;
      await send(alice, group, 'hello all');
      const urgent = (await carol.POST('/v1/tickets', { body: { subject: 'Down', priority: 'urgent', initial_message: 'all down' } })).data!.data.id;
      const low = (await bob.POST('/v1/tickets', { body: { subject: 'Typo', priority: 'low', initial_message: 'a typo' } })).data!.data.id;
      await sam.POST('/v1/tickets/{ticket_id}/assign', { params: { path: { ticket_id: low } }, body: { assignee_id: 'sam' } });
      await send(sam, low, 'fixed');

      await t.test('a plain user gets 403 on every admin operation', async () => {
        const calls = [
          () => bob.GET('/v1/admin/conversations', {}),
          () => bob.GET('/v1/admin/stats', {}),
          () => bob.GET('/v1/admin/users/{user_id}/conversations', { params: { path: { user_id: 'alice' } } }),
          () => bob.GET('/v1/admin/rooms/{room_id}/messages', { params: { path: { room_id: dm } } }),
          () => bob.GET('/v1/admin/audit-log', {}),
        ];
        for (const call of calls) {
          const res = await call();
          assert.equal(res.response.status, 403);
          assert.equal((res.error as { error: { code: string } }).error.code, 'AUTHORIZATION_ERROR');
        }
      });

      await t.test('staff see every conversation, filtered and paged, with DM unread per participant', async () => {
        const all = await sam.GET('/v1/admin/conversations', { params: { query: { include_total: true } } });
        assert.equal(all.response.status, 200, JSON.stringify(all.error));
        assert.equal(all.data!.data.total, 4);
        assert.deepEqual(new Set(all.data!.data.items.map((c) => c.id)), new Set([dm, group, urgent, low]));
        const d = all.data!.data.items.find((c) => c.id === dm)!;
        assert.equal(d.last_seq, 3);
        assert.equal(d.member_count, 2);
        assert.deepEqual(Object.fromEntries(d.members.map((m) => [m.user_id, m.unread_count])), { alice: 1, bob: 2 });
        const g = all.data!.data.items.find((c) => c.id === group)!;
        assert.equal(g.members.every((m) => m.unread_count === null), true);
        assert.equal(g.ticket, null);
        assert.deepEqual(all.data!.data.items.find((c) => c.id === urgent)!.ticket, { status: 'open', priority: 'urgent', requester_id: 'carol', assignee_id: null });
        const dms = await sam.GET('/v1/admin/conversations', { params: { query: { type: 'dm' } } });
        assert.deepEqual(dms.data!.data.items.map((c) => c.id), [dm]);
        assert.equal(dms.data!.data.total, null);
        const carols = await sam.GET('/v1/admin/conversations', { params: { query: { member_id: 'carol' } } });
        assert.deepEqual(new Set(carols.data!.data.items.map((c) => c.id)), new Set([group, urgent]));
        const open = await sam.GET('/v1/admin/conversations', { params: { query: { status: 'open' } } });
        assert.equal(open.data!.data.items.length, 2);
        const seen: string[] = [];
        let cursor: string | undefined;
        do {
          const p = await sam.GET('/v1/admin/conversations', { params: { query: { limit: 3, ...(cursor ? { cursor } : {}) } } });
          seen.push(...p.data!.data.items.map((c) => c.id));
          cursor = p.data!.data.next_cursor ?? undefined;
        } while (cursor);
        assert.deepEqual(seen.sort(), [dm, group, urgent, low].sort());
      });

      await t.test('stats are exact for the data made here', async () => {
        const res = await sam.GET('/v1/admin/stats', {});
        assert.equal(res.response.status, 200, JSON.stringify(res.error));
        const st = res.data!.data;
        assert.equal(st.users, 5);
        assert.deepEqual(st.rooms_by_type, { dm: 1, group: 1, channel: 0, ticket: 2 });
        assert.equal(st.messages, 7);
        assert.deepEqual(st.tickets.by_status, { open: 2, pending: 0, resolved: 0, closed: 0 });
        assert.deepEqual(st.tickets.open_by_priority, { low: 1, medium: 0, high: 0, urgent: 1 });
        assert.equal(st.tickets.unassigned, 1);
        assert.equal(st.messages_per_day.length, 30);
        assert.equal(st.messages_per_day.reduce((n, d) => n + d.count, 0), 7);
        // dm: alice 1 + bob 2; group: bob 1 + carol 1; bob's ticket: bob 1 (sam's reply) + sam 1 (bob's first message).
        assert.equal(st.unread_total, 7);
        const tk = (await sam.GET('/v1/tickets/{ticket_id}', { params: { path: { ticket_id: low } } })).data!.data;
        assert.equal(st.median_first_response_seconds, (Date.parse(tk.first_response_at!) - Date.parse(tk.created_at)) / 1000);
      });

      await t.test("one user's conversations, as that user sees them", async () => {
        const res = await sam.GET('/v1/admin/users/{user_id}/conversations', { params: { path: { user_id: 'bob' } } });
        assert.equal(res.response.status, 200, JSON.stringify(res.error));
        const unread = Object.fromEntries(res.data!.data.items.map((r) => [r.id, r.unread_count]));
        assert.deepEqual(unread, { [dm]: 2, [group]: 1, [low]: 1 });
        const none = await sam.GET('/v1/admin/users/{user_id}/conversations', { params: { path: { user_id: 'nobody' } } });
        assert.equal(none.response.status, 404);
      });

      await t.test('admin reads of rooms the reader is not in are audited', async () => {
        const read = await sam.GET('/v1/admin/rooms/{room_id}/messages', { params: { path: { room_id: dm }, query: { after_seq: 0 } } });
        assert.equal(read.response.status, 200, JSON.stringify(read.error));
        assert.deepEqual(read.data!.data.items.map((m) => m.content), ['one', 'two', 'three']);
        await sam.GET('/v1/admin/rooms/{room_id}/messages', { params: { path: { room_id: low } } }); // a member: not audited
        const missing = await sam.GET('/v1/admin/rooms/{room_id}/messages', { params: { path: { room_id: 'no-such-room' } } });
        assert.equal(missing.response.status, 404);
        const boss = tn.as('boss');
        const log = await boss.GET('/v1/admin/audit-log', { params: { query: { action: 'room.read' } } });
        assert.equal(log.response.status, 200, JSON.stringify(log.error));
        assert.deepEqual(log.data!.data.items.map((e) => [e.actor_id, e.room_id]), [['sam', dm]]);
        const assigned = await boss.GET('/v1/admin/audit-log', { params: { query: { actor_id: 'sam', room_id: low } } });
        assert.deepEqual(assigned.data!.data.items.map((e) => e.action), ['ticket.assigned']);
      });
    });
  });
}

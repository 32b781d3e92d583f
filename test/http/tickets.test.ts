/**
 * Support tickets through the generated client: the lifecycle end to end (open with a first
 * message → staff inbox → assign → first response → resolve → reopen → close), every status
 * transition rule, and `ticket.updated` on the WebSocket.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { backends } from '../helpers/backends.ts';
import type { ApiClient } from '../helpers/client.ts';
import { startWorld } from '../ws/harness.ts';

type Status = 'open' | 'pending' | 'resolved' | 'closed';

for (const backend of backends()) {
  describe(`tickets [${backend.name}]`, () => {
    test('lifecycle, transition rules and ticket.updated', async (t) => {
      const w = await startWorld(t, backend);
      const cat = await w.server.master.PATCH('/v1/tenants/{tenant_id}', {
        params: { path: { tenant_id: w.tenant.id } }, body: { settings: { ticket_categories: ['billing', 'technical'] } },
      });
      assert.equal(cat.response.status, 200, JSON.stringify(cat.error));
      const [rita] = await w.users('rita', 'other');
      const sam = await w.tenant.user('sam', { role: 'staff' });
      await w.tenant.user('boss', { role: 'admin' });
      const other = w.tenant.as('other');
      let ticketId = '';

      await t.test('create: initial message is seq 1, fields start empty', async () => {
        const bad = await rita!.POST('/v1/tickets', { body: { subject: 'x', initial_message: 'hi', category: 'nope' } });
        assert.equal(bad.response.status, 400);
        assert.equal(bad.error!.error.code, 'VALIDATION_ERROR');
        const res = await rita!.POST('/v1/tickets', { body: { subject: 'Cannot log in', category: 'technical', initial_message: 'Help me' } });
        assert.equal(res.response.status, 201, JSON.stringify(res.error));
        const tk = res.data!.data;
        assert.equal(tk.status, 'open');
        assert.equal(tk.priority, 'medium');
        assert.equal(tk.requester_id, 'rita');
        assert.equal(tk.assignee_id, null);
        assert.equal(tk.message_count, 1);
        assert.equal(tk.first_response_at, null);
        const msgs = await rita!.GET('/v1/rooms/{room_id}/messages', { params: { path: { room_id: tk.id } } });
        assert.deepEqual(msgs.data!.data.items.map((m) => [m.seq, m.content]), [[1, 'Help me']]);
        const room = await rita!.GET('/v1/rooms/{room_id}', { params: { path: { room_id: tk.id } } });
        assert.equal(room.data!.data.type, 'ticket');
        assert.equal(room.data!.data.name, 'Cannot log in');
        ticketId = tk.id;
      });

      await t.test('staff inbox, filters and sorts; plain users get 403; outsiders 404', async () => {
        const urgent = await rita!.POST('/v1/tickets', { body: { subject: 'Site down', priority: 'urgent', initial_message: 'All 500s' } });
        assert.equal(urgent.response.status, 201);
        const inbox = await sam.GET('/v1/tickets', { params: { query: { status: 'open', unassigned: true, sort: 'priority' } } });
        assert.equal(inbox.response.status, 200, JSON.stringify(inbox.error));
        assert.deepEqual(inbox.data!.data.items.map((x) => x.subject), ['Site down', 'Cannot log in']);
        const byCat = await sam.GET('/v1/tickets', { params: { query: { category: 'technical' } } });
        assert.deepEqual(byCat.data!.data.items.map((x) => x.id), [ticketId]);
        const paged = await sam.GET('/v1/tickets', { params: { query: { sort: 'oldest', limit: 1 } } });
        assert.equal(paged.data!.data.items[0]!.id, ticketId);
        const next = await sam.GET('/v1/tickets', { params: { query: { sort: 'oldest', limit: 1, cursor: paged.data!.data.next_cursor! } } });
        assert.equal(next.data!.data.items[0]!.subject, 'Site down');
        assert.equal(next.data!.data.next_cursor, null);
        const plain = await rita!.GET('/v1/tickets', {});
        assert.equal(plain.response.status, 403);
        assert.equal(plain.error!.error.code, 'AUTHORIZATION_ERROR');
        const mine = await rita!.GET('/v1/me/tickets', {});
        assert.equal(mine.data!.data.items.length, 2);
        assert.equal((await other.GET('/v1/me/tickets', {})).data!.data.items.length, 0);
        const peek = await other.GET('/v1/tickets/{ticket_id}', { params: { path: { ticket_id: ticketId } } });
        assert.equal(peek.response.status, 404);
        const staffPeek = await sam.GET('/v1/tickets/{ticket_id}', { params: { path: { ticket_id: ticketId } } });
        assert.equal(staffPeek.response.status, 200);
      });

      await t.test('assign (staff only, to staff only), first response, ticket.updated live', async () => {
        const ws = await w.connect('rita', { resume: [{ room_id: ticketId, last_seq: 1 }] });
        await ws.first('sync.complete', (f) => f.room_id === ticketId);
        const path = { ticket_id: ticketId };
        const byUser = await rita!.POST('/v1/tickets/{ticket_id}/assign', { params: { path }, body: { assignee_id: 'sam' } });
        assert.equal(byUser.response.status, 403);
        const toUser = await sam.POST('/v1/tickets/{ticket_id}/assign', { params: { path }, body: { assignee_id: 'other' } });
        assert.equal(toUser.response.status, 400);
        const res = await sam.POST('/v1/tickets/{ticket_id}/assign', { params: { path }, body: { assignee_id: 'sam' } });
        assert.equal(res.response.status, 200, JSON.stringify(res.error));
        assert.equal(res.data!.data.assignee_id, 'sam');
        const frame = await ws.first('ticket.updated');
        assert.deepEqual(frame.changed, ['assignee_id']);
        assert.equal(frame.ticket.assignee_id, 'sam');
        assert.equal(frame.by, 'sam');
        await ws.first('member.joined', (f) => f.member.user_id === 'sam');
        // The requester's own further message is not a response.
        await rita!.POST('/v1/rooms/{room_id}/messages', { params: { path: { room_id: ticketId } }, body: { content: 'still broken' } });
        assert.equal((await sam.GET('/v1/tickets/{ticket_id}', { params: { path } })).data!.data.first_response_at, null);
        const reply = await sam.POST('/v1/rooms/{room_id}/messages', { params: { path: { room_id: ticketId } }, body: { content: 'On it' } });
        assert.equal(reply.data!.data.seq, 3);
        const after = (await rita!.GET('/v1/tickets/{ticket_id}', { params: { path } })).data!.data;
        assert.equal(after.first_response_at, reply.data!.data.created_at);
        assert.equal(after.message_count, 3);
        assert.equal(after.unread_count, 1);
        await sam.POST('/v1/rooms/{room_id}/messages', { params: { path: { room_id: ticketId } }, body: { content: 'Try again?' } });
        assert.equal((await rita!.GET('/v1/tickets/{ticket_id}', { params: { path } })).data!.data.first_response_at, after.first_response_at);
      });

      await t.test('transition rules: who may do what, illegal ones are 409', async () => {
        const path = { ticket_id: ticketId };
        const set = (c: ApiClient, status: Status) => c.PATCH('/v1/tickets/{ticket_id}', { params: { path }, body: { status } });
        const expect = async (c: ApiClient, status: Status, code: number) => {
          const r = await set(c, status);
          assert.equal(r.response.status, code, `${status}: ${JSON.stringify(r.error)}`);
          return r.data?.data;
        };
        await expect(rita!, 'resolved', 403); // the requester may not resolve
        await expect(rita!, 'pending', 403);
        await expect(sam, 'open', 409); // no change is not a transition
        await expect(sam, 'pending', 200);
        const resolved = await expect(sam, 'resolved', 200);
        assert.ok(resolved!.resolved_at);
        await expect(sam, 'pending', 409); // resolved → pending is not a transition
        const reopened = await expect(rita!, 'open', 200); // the requester reopens
        assert.equal(reopened!.resolved_at, null);
        await expect(other, 'closed', 404); // not theirs to see
        const closed = await expect(rita!, 'closed', 200);
        assert.ok(closed!.closed_at);
        await expect(sam, 'resolved', 409); // closed → only open
        await expect(sam, 'pending', 409);
        await expect(sam, 'open', 200); // staff may reopen too
        const prio = await rita!.PATCH('/v1/tickets/{ticket_id}', { params: { path }, body: { priority: 'high' } });
        assert.equal(prio.response.status, 403);
        const staffPrio = await sam.PATCH('/v1/tickets/{ticket_id}', { params: { path }, body: { priority: 'high', category: 'billing' } });
        assert.equal(staffPrio.data!.data.priority, 'high');
        assert.equal(staffPrio.data!.data.category, 'billing');
        await expect(sam, 'closed', 200);
      });
    });
  });
}

/**
 * The transactional outbox: every event the domain publishes is also an outbox row written by the
 * transaction of its change (so a change that fails or rolls back leaves none), and each row's
 * payload is the event's WebSocket frame, valid against the WebhookEvent schema (the frames of AsyncAPI).
 * Events are written only for tenants with an endpoint that would receive them (gate.test.ts): each
 * tenant here has one for every event.
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { after, before, describe, test } from 'node:test';
import { listEvents } from '../../src/store/outbox.ts';
import { backends } from '../helpers/backends.ts';
import { openHarness, rejectsWith, type DomainHarness } from '../domain/harness.ts';
import { subscribe } from './subscribe.ts';

type Validators = typeof import('../../generated/validators.cjs');
const { WebhookEvent: validateEvent } = createRequire(import.meta.url)('../../generated/validators.cjs') as Validators;

for (const backend of backends()) {
  describe(`outbox (${backend.name})`, () => {
    let h: DomainHarness;
    before(async () => { h = await openHarness(backend); });
    /** A tenant with an endpoint for every event, so every event is written. */
    const tenant = async () => {
      const t = await h.tenant();
      await subscribe(h.db, t.id);
      return t;
    };
    after(async () => { await h?.close(); });

    test('every published event is in the outbox, in order, with its frame as payload', async () => {
      const t = await tenant();
      const [a, b] = await Promise.all([t.user('a'), t.user('b'), t.user('c')]);
      h.events.length = 0;
      const { room } = await h.domain.rooms.create(a, { type: 'group', name: 'g', members: ['b'] });
      const { message } = await h.domain.messages.send(a, room.id, { content: 'one', client_msg_id: 'k1' });
      await h.domain.messages.send(a, room.id, { content: 'one', client_msg_id: 'k1' }); // a repeat: no event
      await Promise.all([1, 2, 3].map((i) => h.domain.messages.send(b, room.id, { content: `c${i}` })));
      await h.domain.messages.edit(a, room.id, message.id, { content: 'edited' });
      await h.domain.messages.remove(a, room.id, message.id);
      await h.domain.receipts.read(b, room.id, { seq: 2 });
      await h.domain.rooms.addMember(a, room.id, { user_id: 'c' });
      await h.domain.rooms.removeMember(a, room.id, 'c');
      await h.domain.rooms.update(a, room.id, { name: 'renamed' });
      await h.domain.rooms.remove(a, room.id);

      const rows = await listEvents(h.db, t.id);
      const published = h.events.filter((e) => e.tenant_id === t.id);
      assert.deepEqual(rows.map((r) => r.type), published.map((e) => e.type));
      assert.deepEqual(new Set(rows.map((r) => r.type)), new Set([
        'member.joined', 'message.created', 'message.updated', 'message.deleted', 'receipt', 'member.left', 'room.updated', 'room.deleted',
      ]));
      for (const [i, row] of rows.entries()) {
        const { tenant_id: _t, ...frame } = published[i]!;
        assert.deepEqual(JSON.parse(row.payload), frame);
        assert.equal(row.room_id, room.id);
        assert.ok(validateEvent(frame), `${row.type}: ${JSON.stringify(validateEvent.errors)}`);
      }
      const seqs = rows.filter((r) => r.type === 'message.created').map((r) => JSON.parse(r.payload).message.seq);
      assert.deepEqual(seqs, [1, 2, 3, 4], 'per room, outbox order is seq order');
    });

    test('a change that fails writes no event', async () => {
      const t = await tenant();
      const [a] = await Promise.all([t.user('a'), t.user('b'), t.user('x')]);
      const x = { kind: 'user' as const, tenantId: t.id, user: await h.domain.users.get(t.caller, 'x'), via: 'key' as const };
      const { room } = await h.domain.rooms.create(a, { type: 'group', members: ['b'] });
      const { message } = await h.domain.messages.send(a, room.id, { content: 'hi' });
      await h.domain.messages.remove(a, room.id, message.id);
      const before = (await listEvents(h.db, t.id)).length;
      await rejectsWith(h.domain.messages.send(x, room.id, { content: 'not a member' }), 'NOT_FOUND');
      await rejectsWith(h.domain.messages.edit(a, room.id, message.id, { content: 'too late' }), 'CONFLICT');
      await h.domain.messages.remove(a, room.id, message.id); // deleting twice: no second event
      await rejectsWith(h.domain.rooms.addMember(a, room.id, { user_id: 'b' }), 'CONFLICT');
      await rejectsWith(h.domain.rooms.removeMember(a, room.id, 'x'), 'NOT_FOUND');
      await h.domain.receipts.read(a, room.id, { seq: 0 }); // nothing moved: no receipt
      assert.equal((await listEvents(h.db, t.id)).length, before);
    });

    test("events added by other modules reach the outbox through the same path (a ticket's update)", async () => {
      const t = await tenant();
      const [customer, agent] = await Promise.all([t.user('cust'), t.user('agent', 'staff')]);
      const ticket = await h.domain.tickets.create(customer, { subject: 'help', initial_message: 'it broke' } as never);
      const mark = (await listEvents(h.db, t.id)).at(-1)?.pk ?? 0;
      await h.domain.tickets.update(agent, ticket.id, { status: 'pending' } as never);
      const rows = await listEvents(h.db, t.id, mark);
      const updated = rows.filter((r) => r.type === 'ticket.updated');
      assert.equal(updated.length, 1);
      assert.ok(validateEvent(JSON.parse(updated[0]!.payload)), JSON.stringify(validateEvent.errors));
    });

    test('deleting a user writes member.left and room.deleted with the change', async () => {
      const t = await tenant();
      const [a] = await Promise.all([t.user('a'), t.user('b')]);
      const { room: shared } = await h.domain.rooms.create(a, { type: 'group', members: ['b'] });
      const { room: alone } = await h.domain.rooms.create(a, { type: 'group', members: [] });
      const mark = (await listEvents(h.db, t.id)).at(-1)!.pk;
      await h.domain.users.remove(t.caller, 'a');
      const rows = await listEvents(h.db, t.id, mark);
      assert.deepEqual(rows.map((r) => [r.type, r.room_id]), [['member.left', shared.id], ['room.deleted', alone.id]]);
    });
  });
}

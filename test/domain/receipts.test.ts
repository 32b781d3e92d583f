import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { backends } from '../helpers/backends.ts';
import { openHarness, rejectsWith, type DomainHarness } from './harness.ts';

for (const backend of backends()) {
  describe(`receipts (${backend.name})`, () => {
    let h: DomainHarness;
    before(async () => { h = await openHarness(backend); });
    after(async () => { await h?.close(); });

    async function roomWith(messages: number) {
      const t = await h.tenant();
      const [a, b] = await Promise.all([t.user('a'), t.user('b')]);
      const { room } = await h.domain.rooms.create(a, { type: 'dm', members: ['b'] });
      for (let i = 0; i < messages; i++) await h.domain.messages.send(a, room.id, { content: `m${i}` });
      return { a, b, room };
    }

    test('ack and read only move forward; read raises delivered', async () => {
      const { b, room } = await roomWith(10);
      const cursor = (delivered_seq: number, read_seq: number) => ({ room_id: room.id, user_id: 'b', delivered_seq, read_seq });
      assert.deepEqual(await h.domain.receipts.ack(b, { room_id: room.id, seq: 5 }), cursor(5, 0));
      assert.deepEqual(await h.domain.receipts.ack(b, { room_id: room.id, seq: 3 }), cursor(5, 0));
      assert.deepEqual(await h.domain.receipts.read(b, room.id, { seq: 2 }), cursor(5, 2));
      assert.deepEqual(await h.domain.receipts.read(b, room.id, { seq: 8 }), cursor(8, 8));
      assert.deepEqual(await h.domain.receipts.read(b, room.id, { seq: 1 }), cursor(8, 8));
      assert.deepEqual(await h.domain.receipts.ack(b, { room_id: room.id, seq: 0 }), cursor(8, 8));
      const me = (await h.domain.rooms.get(b, room.id)).members.find((m) => m.user_id === 'b');
      assert.deepEqual([me?.delivered_seq, me?.read_seq], [8, 8]);
      assert.equal((await h.domain.rooms.get(b, room.id)).unread_count, 2);
    });

    test('concurrent out-of-order acks end at the highest', async () => {
      const { b, room } = await roomWith(20);
      const seqs = Array.from({ length: 20 }, (_, i) => (i * 7) % 20 + 1);
      await Promise.all(seqs.map((seq) => h.domain.receipts.ack(b, { room_id: room.id, seq })));
      assert.equal((await h.domain.receipts.ack(b, { room_id: room.id, seq: 0 })).delivered_seq, 20);
    });

    test('seq beyond the last message or not an integer ≥ 0 is VALIDATION_ERROR', async () => {
      const { b, room } = await roomWith(3);
      for (const seq of [4, -1, 1.5]) {
        assert.equal((await rejectsWith(h.domain.receipts.ack(b, { room_id: room.id, seq }), 'VALIDATION_ERROR')).details[0]?.field, 'seq');
        await rejectsWith(h.domain.receipts.read(b, room.id, { seq }), 'VALIDATION_ERROR');
      }
    });

    test('a receipt event is published only when a cursor moved', async () => {
      const { b, room } = await roomWith(3);
      const receipts = () => h.events.filter((e) => e.type === 'receipt' && e.room_id === room.id);
      await h.domain.receipts.ack(b, { room_id: room.id, seq: 2 });
      await h.domain.receipts.ack(b, { room_id: room.id, seq: 2 });
      await h.domain.receipts.read(b, room.id, { seq: 1 });
      await h.domain.receipts.read(b, room.id, { seq: 1 });
      assert.deepEqual(receipts().map((e) => e.type === 'receipt' && [e.user_id, e.delivered_seq, e.read_seq]), [['b', 2, 0], ['b', 2, 1]]);
    });
  });
}

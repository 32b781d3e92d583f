/**
 * A message is serialized once: the outbox payload written with it is also its WebSocket frame, and
 * a new message's ack and its message.created share the message's text.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { MessageEvent } from '../../src/domain/events.ts';
import { outboxRow, payloadText } from '../../src/store/outbox.ts';
import { onBusEvent } from '../../src/ws/events.ts';
import { encode, encodeAck, encodeMessageEvent } from '../../src/ws/frames.ts';
import type { WsContext } from '../../src/ws/context.ts';

const message = {
  id: '01a22c4e-e0d2-7e15-9094-709083e0e528', room_id: 'r1', seq: 7, sender_id: 'u1', content: 'hi "there"',
  meta: { b: 1, a: [true, null] }, client_msg_id: 'k1', created_at: '2026-11-30T12:00:00.000Z', edited_at: null, deleted_at: null,
};

describe('message frames serialized once', () => {
  test("the outbox payload text is the event's frame, and the node publishes exactly those bytes", () => {
    for (const type of ['message.created', 'message.updated', 'message.deleted'] as const) {
      const evt: MessageEvent = { type, tenant_id: 't1', room_id: 'r1', message };
      assert.equal(payloadText(evt), undefined, 'nothing cached before the outbox row is built');
      const row = outboxRow(evt, 1);
      assert.equal(payloadText(evt), row.payload);
      const frame = encode({ type, room_id: 'r1', message });
      assert.equal(row.payload, frame.toString());
      const routed: Buffer[] = [];
      const router = { hasInterest: () => true, route: (_t: string, _r: string, bytes: Buffer) => routed.push(bytes) };
      onBusEvent({ router } as unknown as WsContext, evt);
      onBusEvent({ router } as unknown as WsContext, { ...evt }); // another object (e.g. from Redis): encoded afresh
      assert.deepEqual(routed.map(String), [frame.toString(), frame.toString()]);
    }
  });

  test("an ack and a message event built from the message's cached text are exactly what encode() makes", () => {
    const m = { ...message, content: 'ünï "cödé" \u2028', meta: null };
    for (const [key, created, ref] of [['k1', true, undefined], ['k-2', false, 'r-9'], ['k"3', true, 'r"x']] as const) {
      const frame = { type: 'message.ack' as const, client_msg_id: key, created, message: m, ...(ref ? { ref } : {}) };
      assert.equal(encodeAck(key, created, m, ref).toString(), encode(frame).toString());
    }
    for (const type of ['message.created', 'message.updated', 'message.deleted'] as const) {
      assert.equal(encodeMessageEvent(type, 'room "1"', m).toString(), encode({ type, room_id: 'room "1"', message: m }).toString());
    }
  });
});

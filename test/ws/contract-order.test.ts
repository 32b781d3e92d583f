/**
 * WebSocket contract slips found from outside (issue 7, fault 4):
 *  - the sender's own `message.created` arrived before its `message.ack` (the spec says after);
 *  - a 300 KB frame was cut off by uWS (the client saw 1006) instead of the documented 1009;
 *  - an `error` frame echoed an invalid `client_msg_id` (or `ref`) and so broke its own schema.
 * The test client validates every frame against spec/asyncapi.yaml, so a frame outside the
 * contract fails the test by itself.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { backends } from '../helpers/backends.ts';
import { startWorld, type WsWorld } from './harness.ts';

const SENDS = 50;

for (const backend of backends()) {
  describe(`ws contract order and echoes [${backend.name}]`, () => {
    test('one node, three checks', async (t) => {
      const w = await startWorld(t, backend);
      const [alice] = await w.users('alice', 'bob');
      const roomId = await w.room(alice!, ['bob']);
      await t.test(`${SENDS} sends: each message.ack arrives before the sender's own message.created`, () => ackBeforeCreated(w, roomId));
      await t.test('a 300 KB frame closes the socket with 1009', () => bigFrameCloses(w));
      await t.test('an error frame never echoes an invalid client_msg_id or ref', () => noInvalidEcho(w, roomId));
    });
  });
}

async function ackBeforeCreated(w: WsWorld, roomId: string) {
  const ws = await w.connect('alice');
  await ws.first('sync.complete', (f) => f.room_id === roomId);
  for (let i = 0; i < SENDS; i++) ws.send({ type: 'message.send', room_id: roomId, content: `m${i}`, client_msg_id: `c${i}` });
  await ws.waitUntil(() => ws.all('message.created').length >= SENDS && ws.all('message.ack').length >= SENDS, 20_000);
  const late: string[] = [];
  for (const ack of ws.all('message.ack')) {
    const created = ws.all('message.created').find((f) => f.message.id === ack.message.id)!;
    if (ws.frames.indexOf(created) < ws.frames.indexOf(ack)) late.push(ack.client_msg_id);
  }
  assert.deepEqual(late, [], `message.created came before message.ack for ${late.length} of ${SENDS} sends`);
  ws.assertValid();
}

async function bigFrameCloses(w: WsWorld) {
  const ws = await w.connect('alice');
  ws.sendRaw(JSON.stringify({ type: 'ping', ref: 'big', pad: 'x'.repeat(300 * 1024) }));
  const { code } = await ws.closed;
  assert.equal(code, 1009);
}

async function noInvalidEcho(w: WsWorld, roomId: string) {
  const ws = await w.connect('bob');
  const invalidKeys = [' padded ', 'x'.repeat(129), '😀'.repeat(129), ''];
  for (const [i, key] of invalidKeys.entries()) {
    ws.send({ type: 'message.send', room_id: roomId, content: `bad key ${i}`, client_msg_id: key, ref: `r${i}` });
  }
  ws.send({ type: 'ping', ref: 'y'.repeat(65) }); // a ref over 64 characters
  ws.send({ type: 'ping', ref: 'after' });
  await ws.first('pong', (f) => f.ref === 'after');
  const errors = ws.all('error');
  assert.equal(errors.length, invalidKeys.length + 1, JSON.stringify(errors));
  for (const [i, e] of errors.slice(0, invalidKeys.length).entries()) {
    assert.equal(e.code, 'VALIDATION_ERROR');
    assert.equal(e.client_msg_id, undefined, `invalid key ${i} is not echoed`);
    assert.equal(e.ref, `r${i}`, 'the valid ref still names the frame');
  }
  assert.equal(errors.at(-1)!.ref, undefined);
  ws.assertValid();
}

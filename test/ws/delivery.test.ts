/** Live delivery: REST → WS and WS → WS, per-room order, a message.ack for every send, idempotent repeats. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { backends } from '../helpers/backends.ts';
import { startWorld } from './harness.ts';

for (const backend of backends()) {
  describe(`ws delivery (${backend.name})`, () => {
    test('connected lists the user and their rooms with last_seq', async (t) => {
      const w = await startWorld(t, backend);
      const [alice] = await w.users('alice', 'bob');
      const roomId = await w.room(alice!, ['bob']);
      await alice!.POST('/v1/rooms/{room_id}/messages', { params: { path: { room_id: roomId } }, body: { content: 'one' } });
      const bob = await w.connect('bob');
      const hello = await bob.first('connected');
      assert.equal(hello.user.id, 'bob');
      assert.deepEqual(hello.rooms, [{ room_id: roomId, last_seq: 1 }]);
      assert.match(hello.connection_id, /^c_/);
    });

    test('a REST send reaches WebSocket members; a WS send is acked and reaches the others', async (t) => {
      const w = await startWorld(t, backend);
      const [alice] = await w.users('alice', 'bob', 'carol');
      const roomId = await w.room(alice!, ['bob', 'carol']);
      const bob = await w.connect('bob', { resume: [{ room_id: roomId, last_seq: 0 }] });
      const carol = await w.connect('carol', { resume: [{ room_id: roomId, last_seq: 0 }] });
      await Promise.all([bob.first('sync.complete'), carol.first('sync.complete')]);

      await alice!.POST('/v1/rooms/{room_id}/messages', { params: { path: { room_id: roomId } }, body: { content: 'from rest' } });
      const viaRest = await bob.first('message.created', (f) => f.message.content === 'from rest');
      assert.equal(viaRest.message.seq, 1);

      bob.send({ type: 'message.send', room_id: roomId, content: 'from ws', client_msg_id: 'b-1' });
      const ack = await bob.first('message.ack', (f) => f.client_msg_id === 'b-1');
      assert.equal(ack.created, true);
      assert.equal(ack.message.seq, 2);
      const atCarol = await carol.first('message.created', (f) => f.message.seq === 2);
      assert.equal(atCarol.message.id, ack.message.id);
      assert.equal(atCarol.message.sender_id, 'bob');
    });

    test('every send is acked, in order; repeats return the original', async (t) => {
      const w = await startWorld(t, backend);
      const [alice] = await w.users('alice', 'bob');
      const roomId = await w.room(alice!, ['bob']);
      const bob = await w.connect('bob', { resume: [{ room_id: roomId, last_seq: 0 }] });
      const alicews = await w.connect('alice', { resume: [{ room_id: roomId, last_seq: 0 }] });
      await alicews.first('sync.complete');
      for (let i = 1; i <= 50; i++) bob.send({ type: 'message.send', room_id: roomId, content: `m${i}`, client_msg_id: `k${i}` });
      await bob.waitUntil(() => bob.all('message.ack').length === 50);
      assert.deepEqual(bob.all('message.ack').map((a) => a.message.seq), Array.from({ length: 50 }, (_, i) => i + 1));
      await alicews.waitUntil(() => alicews.all('message.created').length === 50);
      assert.deepEqual(alicews.all('message.created').map((f) => f.message.content), Array.from({ length: 50 }, (_, i) => `m${i + 1}`));

      bob.send({ type: 'message.send', room_id: roomId, content: 'm7', client_msg_id: 'k7' });
      const repeat = await bob.waitUntil(() => bob.all('message.ack')[50]);
      assert.equal(repeat.created, false);
      assert.equal(repeat.message.seq, 7);
      bob.send({ type: 'message.send', room_id: roomId, content: 'different', client_msg_id: 'k7', ref: 'r1' });
      const conflict = await bob.first('error', (f) => f.ref === 'r1');
      assert.equal(conflict.code, 'CONFLICT');
      assert.equal(conflict.client_msg_id, 'k7');
      // the repeat stored nothing: alice saw exactly 50
      bob.send({ type: 'message.send', room_id: roomId, content: 'last', client_msg_id: 'k51' });
      await alicews.first('message.created', (f) => f.message.content === 'last');
      assert.equal(alicews.all('message.created').length, 51);
    });

    test('sending to a room you are not in is an error naming the client_msg_id', async (t) => {
      const w = await startWorld(t, backend);
      const [alice] = await w.users('alice', 'bob', 'mallory');
      const roomId = await w.room(alice!, ['bob']);
      const mallory = await w.connect('mallory');
      mallory.send({ type: 'message.send', room_id: roomId, content: 'hi', client_msg_id: 'x-1' });
      const err = await mallory.first('error', (f) => f.client_msg_id === 'x-1');
      assert.equal(err.code, 'NOT_FOUND');
      assert.equal(err.frame, 'message.send');
    });
  });
}

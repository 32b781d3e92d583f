/**
 * `can_receive_message = false` holds wherever content leaves the server: room views show no
 * `last_message`, the WebSocket fan-out sends such a session no message frames, and a `resume`
 * it asks for answers an AUTHORIZATION_ERROR frame (the socket stays open).
 */
import assert from 'node:assert/strict';
import { describe, before, after, test } from 'node:test';
import { backends } from '../helpers/backends.ts';
import { startTestServer, type TestServer, type TestTenant } from '../helpers/server.ts';
import { WsClient } from '../helpers/ws-client.ts';

for (const backend of backends()) {
  describe(`a user who may not receive messages [${backend.name}]`, () => {
    let s: TestServer;
    let t: TestTenant;
    let roomId: string;
    before(async () => {
      s = await startTestServer(backend);
      t = await s.tenant('NR');
      await t.user('alice');
      await t.user('bob');
      await t.client.POST('/v1/users', { body: { id: 'mute', username: 'mute', permissions: { can_receive_message: false } } });
      roomId = (await t.as('alice').POST('/v1/rooms', { body: { type: 'group', name: 'r', members: ['bob', 'mute'] } })).data!.data.id;
      await t.as('alice').POST('/v1/rooms/{room_id}/messages', { params: { path: { room_id: roomId } }, body: { content: 'secret' } });
    });
    after(() => s.close());

    test('room views: last_message is null for them, shown to a reader', async () => {
      const path = { params: { path: { room_id: roomId } } };
      const [muteList, muteRoom, bobRoom] = [
        await t.as('mute').GET('/v1/rooms', {}), await t.as('mute').GET('/v1/rooms/{room_id}', path), await t.as('bob').GET('/v1/rooms/{room_id}', path),
      ];
      assert.equal(muteList.data!.data.items.find((r) => r.id === roomId)!.last_message, null);
      assert.equal(muteRoom.data!.data.last_message, null);
      assert.equal(bobRoom.data!.data.last_message?.content, 'secret');
    });

    test('fan-out sends them no message frames; their resume answers AUTHORIZATION_ERROR', async () => {
      const mute = await WsClient.connect(s.wsUrl, { headers: t.headers('mute') });
      const bob = await WsClient.connect(s.wsUrl, { headers: t.headers('bob') });
      await Promise.all([mute.first('connected'), bob.first('connected')]);
      mute.send({ type: 'resume', rooms: [{ room_id: roomId, last_seq: 0 }], ref: 'r1' });
      const refused = await mute.first('error', (f) => f.ref === 'r1');
      assert.equal(refused.code, 'AUTHORIZATION_ERROR');
      const sent = await t.as('alice').POST('/v1/rooms/{room_id}/messages', { params: { path: { room_id: roomId } }, body: { content: 'live' } });
      const id = sent.data!.data.id;
      await bob.first('message.created', (f) => f.message.id === id);
      await t.as('alice').PATCH('/v1/rooms/{room_id}/messages/{message_id}', { params: { path: { room_id: roomId, message_id: id } }, body: { content: 'edited' } });
      await bob.first('message.updated', (f) => f.message.id === id);
      // Same node, same room topic: once a later ping is answered, any fan-out frame would have arrived.
      mute.send({ type: 'ping', ref: 'after' });
      await mute.first('pong', (f) => f.ref === 'after');
      assert.deepEqual([...mute.all('message.created'), ...mute.all('message.updated'), ...mute.all('message.deleted')], []);
      await Promise.all([mute.close(), bob.close()]);
    });

    test('a permission change applies in place: granted, the room replays and goes live; revoked, its frames stop', async () => {
      const ws = await WsClient.connect(s.wsUrl, { headers: t.headers('mute') });
      await ws.first('connected');
      const setReceive = (on: boolean) => t.client.PATCH('/v1/users/{user_id}', { params: { path: { user_id: 'mute' } }, body: { permissions: { can_receive_message: on } } });
      await setReceive(true);
      await ws.first('sync.complete', (f) => f.room_id === roomId); // replayed from the delivered cursor, then live
      assert.ok(ws.all('message.created').some((f) => f.message.content === 'secret'));
      await setReceive(false);
      // The signal travels the bus: poll with a resume (one round trip each) until it is refused.
      let code: string | undefined;
      for (let i = 0; i < 50 && code !== 'AUTHORIZATION_ERROR'; i++) {
        ws.send({ type: 'resume', rooms: [{ room_id: roomId, last_seq: 0 }], ref: `q${i}` });
        const reply = await ws.waitFor((f) => (f.type === 'error' || f.type === 'sync.complete') && (f as { ref?: string }).ref === `q${i}`);
        code = reply.type === 'error' ? reply.code : undefined;
      }
      assert.equal(code, 'AUTHORIZATION_ERROR');
      const before = ws.all('message.created').length;
      await t.as('alice').POST('/v1/rooms/{room_id}/messages', { params: { path: { room_id: roomId } }, body: { content: 'after' } });
      ws.send({ type: 'ping', ref: 'done' });
      await ws.first('pong', (f) => f.ref === 'done');
      assert.equal(ws.all('message.created').length, before);
      await ws.close();
    });
  });
}

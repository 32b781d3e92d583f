/** Room events over the socket: edits, deletes, renames, members joining and leaving, read receipts. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { backends } from '../helpers/backends.ts';
import { startWorld } from './harness.ts';

for (const backend of backends()) {
  describe(`ws room events (${backend.name})`, () => {
    test('edits, deletes and renames reach members; read receipts too', async (t) => {
      const w = await startWorld(t, backend);
      const [alice] = await w.users('alice', 'bob');
      const roomId = await w.room(alice!, ['bob']);
      const bob = await w.connect('bob', { resume: [{ room_id: roomId, last_seq: 0 }] });
      await bob.first('sync.complete');
      const path = { room_id: roomId };
      const sent = (await alice!.POST('/v1/rooms/{room_id}/messages', { params: { path }, body: { content: 'helo' } })).data!.data;
      await alice!.PATCH('/v1/rooms/{room_id}/messages/{message_id}', { params: { path: { ...path, message_id: sent.id } }, body: { content: 'hello' } });
      const edited = await bob.first('message.updated');
      assert.equal(edited.message.content, 'hello');
      assert.ok(edited.message.edited_at);
      await alice!.DELETE('/v1/rooms/{room_id}/messages/{message_id}', { params: { path: { ...path, message_id: sent.id } } });
      const deleted = await bob.first('message.deleted');
      assert.equal(deleted.message.seq, sent.seq);
      assert.ok(deleted.message.deleted_at);
      await alice!.PATCH('/v1/rooms/{room_id}', { params: { path }, body: { name: 'renamed' } });
      assert.equal((await bob.first('room.updated')).room.name, 'renamed');

      bob.send({ type: 'read', room_id: roomId, seq: 1 });
      const receipt = await bob.first('receipt', (f) => f.user_id === 'bob' && f.read_seq === 1);
      assert.equal(receipt.room_id, roomId);
    });

    test('a member added while connected starts receiving that room; a removed one stops', async (t) => {
      const w = await startWorld(t, backend);
      const [alice] = await w.users('alice', 'bob', 'carol');
      const roomId = await w.room(alice!, ['bob']);
      const path = { room_id: roomId };
      await alice!.POST('/v1/rooms/{room_id}/messages', { params: { path }, body: { content: 'before carol' } });
      const carol = await w.connect('carol');
      const bob = await w.connect('bob', { resume: [{ room_id: roomId, last_seq: 1 }] });
      await bob.first('sync.complete');
      await alice!.POST('/v1/rooms/{room_id}/members', { params: { path }, body: { user_id: 'carol' } });
      const joined = await carol.first('member.joined');
      assert.equal(joined.member.user_id, 'carol');
      const synced = await carol.first('sync.complete', (f) => f.room_id === roomId);
      assert.equal(synced.seq, 1);
      assert.equal(carol.all('message.created')[0]?.message.content, 'before carol');
      await bob.first('member.joined', (f) => f.member.user_id === 'carol');

      carol.send({ type: 'message.send', room_id: roomId, content: 'hi all', client_msg_id: 'c1' });
      await bob.first('message.created', (f) => f.message.content === 'hi all');

      await alice!.DELETE('/v1/rooms/{room_id}/members/{user_id}', { params: { path: { ...path, user_id: 'carol' } } });
      await bob.first('member.left', (f) => f.user_id === 'carol');
      await alice!.POST('/v1/rooms/{room_id}/messages', { params: { path }, body: { content: 'after carol' } });
      await bob.first('message.created', (f) => f.message.content === 'after carol');
      carol.send({ type: 'ping', ref: 'after' });
      await carol.first('pong');
      assert.ok(!carol.all('message.created').some((f) => f.message.content === 'after carol'));
      carol.send({ type: 'message.send', room_id: roomId, content: 'still here?', client_msg_id: 'c2' });
      assert.equal((await carol.first('error', (f) => f.client_msg_id === 'c2')).code, 'NOT_FOUND');
    });
  });
}

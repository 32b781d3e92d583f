/**
 * Moderation over REST and WebSocket alike (the generated client and a real socket): a ban
 * removes the member's sockets from the room at once and blocks re-adding; a mute refuses sends
 * and typing on both; slow mode answers retry_after_ms on both; a purge is one messages.purged
 * frame; archiving refuses sends; a tenant-wide ban closes sockets (4013) and refuses credentials.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { backends } from '../helpers/backends.ts';
import { WsClient } from '../helpers/ws-client.ts';
import { startWorld } from '../ws/harness.ts';

for (const backend of backends()) {
  describe(`moderation over REST and WebSocket [${backend.name}]`, () => {
    test('ban, mute, slow mode, purge, archive, tenant-wide ban', async (t) => {
      const w = await startWorld(t, backend);
      const [alice, bob] = await w.users('alice', 'bob');
      await w.tenant.user('ada', { role: 'admin' });
      const roomId = await w.room(alice!, ['bob']);
      const path = { room_id: roomId };
      const aliceWs = await w.connect('alice', { resume: [{ room_id: roomId, last_seq: 0 }] });
      await aliceWs.first('sync.complete');

      await t.test('ban: the socket leaves the room at once; no re-adding; unban', async () => {
        const bobWs = await w.connect('bob', { resume: [{ room_id: roomId, last_seq: 0 }] });
        await bobWs.first('sync.complete');
        const res = await alice!.POST('/v1/rooms/{room_id}/bans', { params: { path }, body: { user_id: 'bob', reason: 'spam' } });
        assert.equal(res.response.status, 201, JSON.stringify(res.error));
        assert.equal(res.data!.data.until, null);
        const banned = await bobWs.first('member.banned');
        assert.equal(banned.by, 'alice');
        await bobWs.first('member.left', (f) => f.user_id === 'bob');
        await aliceWs.first('member.banned', (f) => f.user_id === 'bob');
        bobWs.send({ type: 'message.send', room_id: roomId, content: 'let me in', client_msg_id: 'b1' });
        assert.equal((await bobWs.first('error', (f) => f.client_msg_id === 'b1')).code, 'NOT_FOUND');
        const rest = await bob!.POST('/v1/rooms/{room_id}/messages', { params: { path }, body: { content: 'rest too' } });
        assert.equal(rest.response.status, 404);
        const readd = await alice!.POST('/v1/rooms/{room_id}/members', { params: { path }, body: { user_id: 'bob' } });
        assert.equal(readd.response.status, 403);
        const list = await alice!.GET('/v1/rooms/{room_id}/bans', { params: { path } });
        assert.deepEqual(list.data!.data.items.map((b) => [b.user_id, b.reason]), [['bob', 'spam']]);
        const lift = await alice!.DELETE('/v1/rooms/{room_id}/bans/{user_id}', { params: { path: { ...path, user_id: 'bob' } } });
        assert.equal(lift.response.status, 200);
        assert.equal((await alice!.POST('/v1/rooms/{room_id}/members', { params: { path }, body: { user_id: 'bob' } })).response.status, 201);
        await bobWs.close();
      });

      await t.test('mute: sends and typing refused on REST and WS alike, naming the end', async () => {
        const bobWs = await w.connect('bob', { resume: [{ room_id: roomId, last_seq: 0 }] });
        await bobWs.first('sync.complete');
        const res = await alice!.POST('/v1/rooms/{room_id}/mutes', { params: { path }, body: { user_id: 'bob', duration_seconds: 600 } });
        assert.equal(res.response.status, 200, JSON.stringify(res.error));
        const until = res.data!.data.until;
        assert.equal((await aliceWs.first('member.muted', (f) => f.user_id === 'bob')).until, until);
        const rest = await bob!.POST('/v1/rooms/{room_id}/messages', { params: { path }, body: { content: 'hi' } });
        assert.equal(rest.response.status, 403);
        assert.ok(rest.error!.error.message.includes(until));
        bobWs.send({ type: 'message.send', room_id: roomId, content: 'hi', client_msg_id: 'm1' });
        const wsErr = await bobWs.first('error', (f) => f.client_msg_id === 'm1');
        assert.equal(wsErr.code, 'AUTHORIZATION_ERROR');
        assert.ok(wsErr.message.includes(until));
        bobWs.send({ type: 'typing.start', room_id: roomId, ref: 'ty' });
        assert.equal((await bobWs.first('error', (f) => f.ref === 'ty')).code, 'AUTHORIZATION_ERROR');
        const member = await alice!.GET('/v1/rooms/{room_id}/members/{user_id}', { params: { path: { ...path, user_id: 'bob' } } });
        assert.equal(member.data!.data.muted_until, until);
        const un = await alice!.DELETE('/v1/rooms/{room_id}/mutes/{user_id}', { params: { path: { ...path, user_id: 'bob' } } });
        assert.equal(un.response.status, 200);
        await aliceWs.first('member.muted', (f) => f.user_id === 'bob' && f.until === null);
        await bobWs.close();
      });

      await t.test('slow mode: RATE_LIMIT_EXCEEDED with retry_after_ms on both; owners exempt', async () => {
        const bobWs = await w.connect('bob');
        const set = await alice!.PATCH('/v1/rooms/{room_id}', { params: { path }, body: { slow_mode_seconds: 3600 } });
        assert.equal(set.data!.data.slow_mode_seconds, 3600);
        assert.equal((await aliceWs.first('room.updated', (f) => f.room.slow_mode_seconds === 3600)).room_id, roomId);
        assert.equal((await bob!.POST('/v1/rooms/{room_id}/messages', { params: { path }, body: { content: 'one' } })).response.status, 201);
        const second = await bob!.POST('/v1/rooms/{room_id}/messages', { params: { path }, body: { content: 'two' } });
        assert.equal(second.response.status, 429);
        assert.equal(second.error!.error.code, 'RATE_LIMIT_EXCEEDED');
        assert.ok(second.error!.error.retry_after_ms! > 3_500_000);
        bobWs.send({ type: 'message.send', room_id: roomId, content: 'three', client_msg_id: 's3' });
        const wsErr = await bobWs.first('error', (f) => f.client_msg_id === 's3');
        assert.equal(wsErr.code, 'RATE_LIMIT_EXCEEDED');
        assert.ok(wsErr.retry_after_ms! > 3_500_000);
        for (const c of ['owner 1', 'owner 2']) {
          assert.equal((await alice!.POST('/v1/rooms/{room_id}/messages', { params: { path }, body: { content: c } })).response.status, 201);
        }
        await alice!.PATCH('/v1/rooms/{room_id}', { params: { path }, body: { slow_mode_seconds: 0 } });
        await bobWs.close();
      });

      await t.test('purge: tombstones, seq gap-free, one messages.purged frame', async () => {
        await bob!.POST('/v1/rooms/{room_id}/messages', { params: { path }, body: { content: 'spam' } });
        const res = await alice!.POST('/v1/rooms/{room_id}/purge', { params: { path }, body: { user_id: 'bob' } });
        assert.equal(res.response.status, 200, JSON.stringify(res.error));
        assert.equal(res.data!.data.purged, 2);
        const frame = await aliceWs.first('messages.purged');
        assert.deepEqual(frame.seqs, res.data!.data.seqs);
        assert.equal(aliceWs.all('messages.purged').length, 1);
        const msgs = (await alice!.GET('/v1/rooms/{room_id}/messages', { params: { path, query: { after_seq: 0 } } })).data!.data.items;
        assert.deepEqual(msgs.map((m) => m.seq), msgs.map((_, i) => i + 1));
        assert.ok(msgs.filter((m) => m.sender_id === 'bob').every((m) => m.deleted_at !== null && m.content === ''));
      });

      await t.test('archive: sends refused on both, out of listRooms, history kept', async () => {
        const res = await alice!.POST('/v1/rooms/{room_id}/archive', { params: { path } });
        assert.equal(res.response.status, 200, JSON.stringify(res.error));
        await aliceWs.first('room.updated', (f) => f.room.archived_at !== null);
        assert.equal((await bob!.POST('/v1/rooms/{room_id}/messages', { params: { path }, body: { content: 'x' } })).response.status, 409);
        aliceWs.send({ type: 'message.send', room_id: roomId, content: 'x', client_msg_id: 'a1' });
        assert.equal((await aliceWs.first('error', (f) => f.client_msg_id === 'a1')).code, 'CONFLICT');
        assert.equal((await bob!.GET('/v1/rooms', {})).data!.data.items.length, 0);
        assert.equal((await bob!.GET('/v1/rooms', { params: { query: { include_archived: true } } })).data!.data.items.length, 1);
        assert.ok((await bob!.GET('/v1/rooms/{room_id}/messages', { params: { path } })).data!.data.items.length > 0);
        assert.equal((await alice!.DELETE('/v1/rooms/{room_id}/archive', { params: { path } })).response.status, 200);
      });

      await t.test('tenant-wide ban: sockets close with 4013, credentials refused', async () => {
        const bobWs = await w.connect('bob');
        const ada = w.tenant.as('ada');
        const res = await ada.POST('/v1/users/{user_id}/ban', { params: { path: { user_id: 'bob' } }, body: { reason: 'abuse' } });
        assert.equal(res.response.status, 200, JSON.stringify(res.error));
        assert.equal((await bobWs.closed).code, 4013);
        assert.equal((await bob!.GET('/v1/me', {})).response.status, 401);
        const again = await WsClient.connect(w.wsUrl, { headers: w.tenant.headers('bob'), label: 'bob-again' });
        assert.equal((await again.closed).code, 4003);
        const byAlice = await alice!.POST('/v1/users/{user_id}/ban', { params: { path: { user_id: 'ada' } }, body: {} });
        assert.equal(byAlice.response.status, 403);
        assert.equal((await ada.DELETE('/v1/users/{user_id}/ban', { params: { path: { user_id: 'bob' } } })).response.status, 200);
        assert.equal((await bob!.GET('/v1/me', {})).response.status, 200);
      });
    });
  });
}

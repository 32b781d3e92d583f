/**
 * Emailed codes → room-scoped tokens, with a real SMTP server: the code is read from the delivered
 * mail. Covers enumeration (always 202), resend throttling, the 5-wrong-tries limit, and a
 * room-scoped token refused everywhere outside its room over REST and the WebSocket.
 */
import { describe, before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import { backends } from '../helpers/backends.ts';
import type { ApiClient } from '../helpers/client.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { WsClient } from '../helpers/ws-client.ts';
import { signInTenant, type SignInTenant } from './helpers.ts';
import { codeOf, startSmtp, type TestSmtp } from './smtp.ts';

for (const backend of backends()) {
  describe(`emailed room codes [${backend.name}]`, () => {
    let s: TestServer;
    let smtp: TestSmtp;
    let t: SignInTenant;
    let alice: ApiClient;
    let roomId: string;
    let otherRoom: string;
    before(async () => {
      smtp = await startSmtp();
      s = await startTestServer(backend, { smtpUrl: smtp.url });
      t = await signInTenant(s, { email_code: true });
      alice = await t.user('alice');
      roomId = (await alice.POST('/v1/rooms', { body: { type: 'group', name: 'support', members: [] } })).data!.data.id;
      otherRoom = (await alice.POST('/v1/rooms', { body: { type: 'group', name: 'private', members: [] } })).data!.data.id;
    });
    after(async () => {
      await s.close();
      await smtp.close();
    });

    const request = (room: string, email: string) =>
      t.browser.POST('/v1/rooms/{room_id}/auth-codes', { params: { path: { room_id: room } }, body: { email } });
    const exchange = (room: string, email: string, code: string) =>
      t.browser.POST('/v1/rooms/{room_id}/auth-codes/exchange', { params: { path: { room_id: room } }, body: { email, code } });

    test('code by real SMTP → exchange → a token for that room only (REST and WebSocket)', async () => {
      const mark = smtp.mails.length;
      assert.equal((await request('no-such-room', 'ghost@example.com')).response.status, 202, 'an unknown room looks the same');
      const asked = await request(roomId, 'Bob@Example.com');
      assert.equal(asked.response.status, 202);
      const code = codeOf(await smtp.next('bob@example.com', mark));
      assert.equal(smtp.mails.slice(mark).some((m) => m.to.includes('ghost@example.com')), false, 'no mail for an unknown room');
      assert.equal(JSON.stringify(await s.running.parts.db('room_codes').select()).includes(code), false, 'codes are stored hashed');

      const session = await exchange(roomId, 'bob@example.com', code);
      assert.equal(session.response.status, 200);
      const { user, access_token: token, room_id } = session.data!.data;
      assert.equal(room_id, roomId);
      assert.equal(user.email, 'bob@example.com');
      assert.equal((await exchange(roomId, 'bob@example.com', code)).response.status, 401, 'a code works once');

      // The email user is also put in another room (by its owner): the scoped token still cannot see it.
      await alice.POST('/v1/rooms/{room_id}/members', { params: { path: { room_id: otherRoom } }, body: { user_id: user.id } });
      const bob = s.client({ Authorization: `Bearer ${token.token}` });
      assert.equal((await bob.GET('/v1/rooms/{room_id}', { params: { path: { room_id: roomId } } })).response.status, 200);
      const sent = await bob.POST('/v1/rooms/{room_id}/messages', { params: { path: { room_id: roomId } }, body: { content: 'hello from bob' } });
      assert.equal(sent.response.status, 201);
      assert.equal((await bob.GET('/v1/rooms/{room_id}', { params: { path: { room_id: otherRoom } } })).response.status, 404);
      assert.equal((await bob.POST('/v1/rooms/{room_id}/messages', { params: { path: { room_id: otherRoom } }, body: { content: 'x' } })).response.status, 404);
      assert.equal((await bob.GET('/v1/rooms', {})).response.status, 404, 'no room list for a scoped token');
      assert.equal((await bob.GET('/v1/users', {})).response.status, 404);
      assert.equal((await bob.POST('/v1/rooms', { body: { type: 'group', name: 'mine', members: [] } })).response.status, 404);

      const ws = await WsClient.connect(s.wsUrl, { headers: { Authorization: `Bearer ${token.token}` } });
      const connected = await ws.first('connected');
      assert.deepEqual(connected.rooms.map((r) => r.room_id), [roomId], 'the socket follows its room only');
      ws.send({ type: 'message.send', room_id: otherRoom, content: 'sneaky', client_msg_id: 'm1' });
      const refused = await ws.first('error', (f) => f.client_msg_id === 'm1');
      assert.equal(refused.code, 'NOT_FOUND');
      ws.send({ type: 'message.send', room_id: roomId, content: 'ok', client_msg_id: 'm2' });
      assert.equal((await ws.first('message.ack', (f) => f.client_msg_id === 'm2')).message.room_id, roomId);
      ws.socket.close();
    });

    test('resend is throttled; the 5th wrong try ends the code', async () => {
      const mark = smtp.mails.length;
      await request(roomId, 'carol@example.com');
      const code = codeOf(await smtp.next('carol@example.com', mark));
      const again = await request(roomId, 'carol@example.com');
      assert.equal(again.response.status, 429);
      assert.ok(again.response.headers.get('retry-after'));
      const wrong = code === '000000' ? '111111' : '000000';
      for (let i = 0; i < 5; i++) assert.equal((await exchange(roomId, 'carol@example.com', wrong)).response.status, 401);
      const sixth = await exchange(roomId, 'carol@example.com', code);
      assert.equal(sixth.response.status, 401, 'the right code after 5 wrong tries is refused');
      assert.equal((await exchange(roomId, 'nobody@example.com', code)).response.status, 401, 'an unknown address answers the same');
    });

    test('the flow is NOT_FOUND while switched off; bad input is a VALIDATION_ERROR', async () => {
      const off = await signInTenant(s, { password: true }, 'no codes');
      assert.equal((await off.browser.POST('/v1/rooms/{room_id}/auth-codes', { params: { path: { room_id: roomId } }, body: { email: 'a@example.com' } })).response.status, 404);
      assert.equal((await request(roomId, 'not-an-email')).response.status, 400);
      assert.equal((await exchange(roomId, 'bob@example.com', '12ab56')).response.status, 400);
    });
  });
}

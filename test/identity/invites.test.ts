/**
 * Join links end to end: an owner creates an invite with a password; another user of the tenant
 * joins with it and `member.joined` reaches the room's WebSocket; wrong passwords are counted and
 * then refused before hashing; unknown, revoked, expired and used-up codes are NOT_FOUND.
 */
import { describe, before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import { backends } from '../helpers/backends.ts';
import type { ApiClient } from '../helpers/client.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { WsClient } from '../helpers/ws-client.ts';
import { signInTenant, type SignInTenant } from './helpers.ts';

for (const backend of backends()) {
  describe(`room invites [${backend.name}]`, () => {
    let s: TestServer;
    let t: SignInTenant;
    let owner: ApiClient;
    let roomId: string;
    const clock = { now: Date.now() };
    before(async () => {
      s = await startTestServer(backend, { authCacheMs: 0 }, { domain: { now: () => clock.now } });
      t = await signInTenant(s, { invites: true });
      owner = await t.user('olivia');
      roomId = (await owner.POST('/v1/rooms', { body: { type: 'group', name: 'club', members: [] } })).data!.data.id;
    });
    after(() => s.close());
    const room = () => ({ params: { path: { room_id: roomId } } });
    const join = (as: ApiClient, code: string, password?: string) =>
      as.POST('/v1/invites/{code}/join', { params: { path: { code } }, body: password === undefined ? {} : { password } });

    test('invite with a password → join → member.joined on the WebSocket', async () => {
      const made = await owner.POST('/v1/rooms/{room_id}/invites', { ...room(), body: { password: 'club password', max_uses: 5, expires_in_seconds: 3600 } });
      assert.equal(made.response.status, 201);
      const { invite, code } = made.data!.data;
      assert.equal(invite.has_password, true);
      assert.ok(code.length >= 40, 'codes are unguessable');
      const token = (await t.client.POST('/v1/users/{user_id}/tokens', { params: { path: { user_id: 'olivia' } }, body: {} })).data!.data.token;
      const ws = await WsClient.connect(s.wsUrl, { headers: { Authorization: `Bearer ${token}` } });
      await ws.first('connected');

      const pat = await t.user('pat');
      assert.equal((await join(pat, code)).response.status, 401, 'the password is required');
      assert.equal((await join(pat, code, 'wrong password')).response.status, 401);
      const joined = await join(pat, code, 'club password');
      assert.equal(joined.response.status, 200);
      assert.equal(joined.data!.data.member.user_id, 'pat');
      const frame = await ws.first('member.joined', (f) => f.member.user_id === 'pat');
      assert.equal(frame.room_id, roomId);
      assert.equal((await join(pat, code, 'club password')).response.status, 409, 'already a member');
      ws.socket.close();

      const listed = await owner.GET('/v1/rooms/{room_id}/invites', room());
      assert.equal(listed.data!.data.items[0]!.uses, 1);
      assert.equal(JSON.stringify(listed.data).includes(code), false, 'codes are never listed');
      assert.equal((await pat.GET('/v1/rooms/{room_id}/invites', room())).response.status, 403, 'members cannot manage invites');
    });

    test('wrong passwords are limited; unknown, revoked, used-up and expired codes are NOT_FOUND', async () => {
      const made = (await owner.POST('/v1/rooms/{room_id}/invites', { ...room(), body: { password: 'secret password', max_uses: 1 } })).data!.data;
      const quinn = await t.user('quinn');
      for (let i = 0; i < 5; i++) assert.equal((await join(quinn, made.code, `guess ${i}!`)).response.status, 401);
      const throttled = await join(quinn, made.code, 'secret password');
      assert.equal(throttled.response.status, 429);
      assert.ok(throttled.response.headers.get('retry-after'));

      assert.equal((await join(quinn, 'no-such-code')).response.status, 404);
      const once = (await owner.POST('/v1/rooms/{room_id}/invites', { ...room(), body: { max_uses: 1 } })).data!.data;
      assert.equal((await join(await t.user('rita'), once.code)).response.status, 200);
      assert.equal((await join(await t.user('sam'), once.code)).response.status, 404, 'used up');
      const revoked = (await owner.POST('/v1/rooms/{room_id}/invites', { ...room(), body: {} })).data!.data;
      const del = await owner.DELETE('/v1/rooms/{room_id}/invites/{invite_id}', { params: { path: { room_id: roomId, invite_id: revoked.invite.id } } });
      assert.equal(del.response.status, 200);
      assert.equal((await join(await t.user('tom'), revoked.code)).response.status, 404, 'revoked');
      const brief = (await owner.POST('/v1/rooms/{room_id}/invites', { ...room(), body: { expires_in_seconds: 60 } })).data!.data;
      clock.now += 61_000;
      assert.equal((await join(await t.user('uma'), brief.code)).response.status, 404, 'expired');
    });

    test('the flow is NOT_FOUND while switched off', async () => {
      const off = await signInTenant(s, { password: true }, 'no invites');
      const olga = await off.user('olga');
      const r = (await olga.POST('/v1/rooms', { body: { type: 'group', name: 'x', members: [] } })).data!.data.id;
      assert.equal((await olga.POST('/v1/rooms/{room_id}/invites', { params: { path: { room_id: r } }, body: {} })).response.status, 404);
    });
  });
}

/**
 * Accounts end to end through the generated client, from a "browser" holding only a publishable
 * key: register → login → refresh → reuse detection → logout; what a switched-off flow, a wrong
 * origin and a wrong password look like; and login throttling that happens before any hashing.
 */
import { describe, before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import { backends } from '../helpers/backends.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { countingHasher, ORIGIN, signInTenant, type SignInTenant } from './helpers.ts';

const code = (res: { error?: unknown }) => (res.error as { error: { code: string } } | undefined)?.error.code;

for (const backend of backends()) {
  describe(`accounts [${backend.name}]`, () => {
    let s: TestServer;
    let t: SignInTenant;
    const hasher = countingHasher();
    before(async () => {
      s = await startTestServer(backend, { loginFailuresPerUser: 3 }, { ws: false, domain: { hasher } });
      t = await signInTenant(s, { password: true });
    });
    after(() => s.close());

    test('register → login → refresh → reuse detection → logout', async () => {
      const reg = await t.browser.POST('/v1/auth/register', { body: { username: 'alice', password: 'correct horse battery', email: 'alice@example.com' } });
      assert.equal(reg.response.status, 201);
      assert.equal(reg.response.headers.get('access-control-allow-origin'), ORIGIN);
      assert.equal(reg.data!.data.user.role, 'user');
      assert.equal(JSON.stringify(reg.data).includes('argon2'), false, 'the hash never leaves the store');
      const taken = await t.browser.POST('/v1/auth/register', { body: { username: 'alice', password: 'another password' } });
      assert.equal(taken.response.status, 409);

      const login = await t.browser.POST('/v1/auth/login', { body: { username: 'alice', password: 'correct horse battery' } });
      assert.equal(login.response.status, 200);
      const me = await s.client({ Authorization: `Bearer ${login.data!.data.access_token.token}` }).GET('/v1/me', {});
      assert.equal(me.data!.data.username, 'alice');

      const first = login.data!.data.refresh_token;
      const rotated = await t.browser.POST('/v1/auth/refresh', { body: { refresh_token: first } });
      assert.equal(rotated.response.status, 200);
      const second = rotated.data!.data.refresh_token;
      assert.notEqual(second, first);
      const secondBearer = s.client({ Authorization: `Bearer ${rotated.data!.data.access_token.token}` });
      assert.equal((await secondBearer.GET('/v1/me', {})).response.status, 200);

      // A thief replays the first (used) refresh token: the whole family dies, the victim's too.
      const replay = await t.browser.POST('/v1/auth/refresh', { body: { refresh_token: first } });
      assert.equal(replay.response.status, 401);
      assert.equal((await t.browser.POST('/v1/auth/refresh', { body: { refresh_token: second } })).response.status, 401);
      assert.equal((await secondBearer.GET('/v1/me', {})).response.status, 401, 'user tokens of the family are revoked');

      const again = await t.browser.POST('/v1/auth/login', { body: { username: 'alice', password: 'correct horse battery' } });
      const bearer = s.client({ Authorization: `Bearer ${again.data!.data.access_token.token}` });
      const out = await t.browser.POST('/v1/auth/logout', { body: { refresh_token: again.data!.data.refresh_token } });
      assert.deepEqual(out.data!.data, { logged_out: true });
      assert.equal((await bearer.GET('/v1/me', {})).response.status, 401, 'logout revokes the user token');
      assert.equal((await t.browser.POST('/v1/auth/refresh', { body: { refresh_token: again.data!.data.refresh_token } })).response.status, 401);
    });

    test('an unknown username and a wrong password answer the same, and both hash once', async () => {
      await t.browser.POST('/v1/auth/register', { body: { username: 'bob', password: 'bob password 1' } });
      await t.browser.POST('/v1/auth/login', { body: { username: 'warm-up', password: 'makes the dummy hash' } });
      const before = hasher.calls;
      const wrong = await t.browser.POST('/v1/auth/login', { body: { username: 'bob', password: 'not his password' } });
      const unknown = await t.browser.POST('/v1/auth/login', { body: { username: 'nobody-here', password: 'not his password' } });
      assert.equal(hasher.calls - before, 2, 'the unknown user is verified against a dummy hash');
      assert.equal(wrong.response.status, 401);
      assert.equal(unknown.response.status, 401);
      assert.equal((wrong.error as any).error.message, (unknown.error as any).error.message);
    });

    test('passwords are 8–256 characters; bodies are bounded', async () => {
      const short = await t.browser.POST('/v1/auth/register', { body: { username: 'carol', password: 'short' } });
      assert.equal(code(short), 'VALIDATION_ERROR');
      const long = await t.browser.POST('/v1/auth/register', { body: { username: 'carol', password: '🔑'.repeat(257) } });
      assert.equal(code(long), 'VALIDATION_ERROR');
      const emoji = await t.browser.POST('/v1/auth/register', { body: { username: 'carol', password: '🔑'.repeat(8) } });
      assert.equal(emoji.response.status, 201, '8 code points are enough, whatever their UTF-16 length');
    });

    test('failed logins are throttled per username before any hashing; a valid user elsewhere is not slowed', async () => {
      await t.browser.POST('/v1/auth/register', { body: { username: 'dave', password: 'dave password 1' } });
      for (let i = 0; i < 3; i++) {
        assert.equal((await t.browser.POST('/v1/auth/login', { body: { username: 'dave', password: `guess ${i} wrong` } })).response.status, 401);
      }
      const before = hasher.calls;
      const throttled = await t.browser.POST('/v1/auth/login', { body: { username: 'dave', password: 'dave password 1' } });
      assert.equal(throttled.response.status, 429);
      assert.equal(code(throttled), 'RATE_LIMIT_EXCEEDED');
      assert.ok(Number(throttled.response.headers.get('retry-after')) >= 1);
      assert.equal(hasher.calls, before, 'the throttled attempt hashed nothing');
      const other = await t.browser.POST('/v1/auth/login', { body: { username: 'bob', password: 'bob password 1' } });
      assert.equal(other.response.status, 200);
    });

    test('a switched-off flow is NOT_FOUND; the publishable key is origin-bound and sign-in only', async () => {
      const off = await signInTenant(s, { guest: true }, 'off');
      const res = await off.browser.POST('/v1/auth/login', { body: { username: 'x', password: 'whatever1' } });
      assert.equal(res.response.status, 404);
      const elsewhere = s.client({ 'X-Publishable-Key': t.publishableKey, Origin: 'https://evil.example' });
      assert.equal((await elsewhere.POST('/v1/auth/login', { body: { username: 'bob', password: 'bob password 1' } })).response.status, 401);
      const noOrigin = s.client({ 'X-Publishable-Key': t.publishableKey });
      assert.equal((await noOrigin.POST('/v1/auth/login', { body: { username: 'bob', password: 'bob password 1' } })).response.status, 401);
      assert.equal((await t.browser.GET('/v1/users', {})).response.status, 401, 'a publishable key cannot list users');
      assert.equal((await t.browser.POST('/v1/rooms', { body: { type: 'group', name: 'x', members: [] } })).response.status, 401);
      // Servers may use the secret key for the same calls.
      assert.equal((await t.client.POST('/v1/auth/login', { body: { username: 'bob', password: 'bob password 1' } })).response.status, 200);
    });
  });

  describe(`sign-in throttling per client IP [${backend.name}]`, () => {
    let s: TestServer;
    let t: SignInTenant;
    const hasher = countingHasher();
    before(async () => {
      s = await startTestServer(backend, { loginFailuresPerUser: 100, authFailuresPerIp: 4 }, { ws: false, domain: { hasher } });
      t = await signInTenant(s, { password: true });
    });
    after(() => s.close());

    test('failures over many usernames from one address are refused before hashing', async () => {
      for (let i = 0; i < 4; i++) {
        assert.equal((await t.browser.POST('/v1/auth/login', { body: { username: `user${i}`, password: 'wrong password' } })).response.status, 401);
      }
      const before = hasher.calls;
      const res = await t.browser.POST('/v1/auth/login', { body: { username: 'user9', password: 'wrong password' } });
      assert.equal(res.response.status, 429);
      assert.ok(res.response.headers.get('retry-after'));
      assert.equal(hasher.calls, before);
    });
  });
}

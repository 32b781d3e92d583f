/**
 * Authentication attacks, on REST and the WebSocket: forged JWTs (alg none, other algorithms,
 * an RSA public key as HMAC secret, embedded jwk, jku/x5u, kid tricks, stripped or forged
 * signatures, tampered claims, wrong issuer, nbf in the future, expired, oversized, garbage) and
 * credentials that were once good (deleted user, deleted tenant, rotated key, revoked token, used
 * or forged WebSocket tickets).
 * Every one answers 401 AUTHENTICATION_ERROR on REST and closes the socket with 4003, whether the
 * credential came on the upgrade or in an `auth` frame; no header URL is ever fetched.
 */
import { describe, before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { CloseCode } from '../../src/ws/close-codes.ts';
import { backends } from '../helpers/backends.ts';
import { raw } from '../helpers/client.ts';
import { startTestServer, type TestServer, type TestTenant } from '../helpers/server.ts';
import { WsClient } from '../helpers/ws-client.ts';
import { attacks, type Victim } from './jwt-forge.ts';

type Headers = Record<string, string>;

async function secretOf(s: TestServer, tenantId: string): Promise<Buffer> {
  const row = await s.running.parts.db('tenants').where({ id: tenantId }).first('jwt_secret');
  return Buffer.from(String(row.jwt_secret), 'base64url');
}

async function mint(t: TestTenant, userId: string): Promise<{ token: string; id: string }> {
  const res = await t.client.POST('/v1/users/{user_id}/tokens', { params: { path: { user_id: userId } }, body: {} });
  assert.equal(res.response.status, 201, JSON.stringify(res.error));
  return { token: res.data!.data.token, id: res.data!.data.token_id };
}

/** A credential must be refused everywhere: REST 401, WebSocket 4003 on the upgrade and in `auth`. */
async function assertRefused(s: TestServer, name: string, headers: Headers, bearer?: string): Promise<number> {
  const path = headers['X-API-Key'] && !headers['X-User-Id'] ? '/v1/users' : '/v1/me';
  const res = await raw(s.baseUrl, 'GET', path, { headers });
  assert.equal(res.status, 401, `REST with ${name}: ${res.status} ${JSON.stringify(res.body)}`);
  assert.equal(res.body.error.code, 'AUTHENTICATION_ERROR', name);
  const upgrade = await WsClient.connect(s.wsUrl, { headers, label: name });
  const closed = await upgrade.closed;
  assert.equal(closed.code, CloseCode.BAD_CREDENTIALS, `WebSocket upgrade with ${name}: closed ${closed.code} ${closed.reason}`);
  assert.equal(upgrade.frames.length, 0, `${name}: no frame before the close`);
  if (bearer === undefined) return 2;
  const frame = await WsClient.connect(s.wsUrl, { label: `${name} (auth frame)` });
  frame.send({ type: 'auth', token: bearer });
  const closedFrame = await frame.closed;
  assert.equal(closedFrame.code, CloseCode.BAD_CREDENTIALS, `WebSocket auth frame with ${name}: closed ${closedFrame.code}`);
  assert.ok(!frame.frames.some((f) => f.type === 'connected'), `${name}: connected over the auth frame`);
  return 3;
}

for (const backend of backends()) {
  describe(`authentication attacks [${backend.name}]`, () => {
    let s: TestServer;
    let a: TestTenant;
    let trap: http.Server;
    let trapHits = 0;
    let victim: Victim;
    before(async () => {
      // Hundreds of refused credentials come from one address: lift the per-IP failure throttle here
      // (it has its own test, test/http/credential-throttle.test.ts) so every attack reaches the check it aims at.
      s = await startTestServer(backend, { authFailuresPerIp: 1_000_000 });
      trap = http.createServer((_req, res) => { trapHits++; res.end('{"keys":[]}'); });
      await new Promise<void>((resolve) => trap.listen(0, '127.0.0.1', resolve));
      a = await s.tenant('victim');
      const b = await s.tenant('other');
      await a.user('alice');
      await a.user('amy');
      victim = {
        token: (await mint(a, 'alice')).token, secret: await secretOf(s, a.id), tenantId: a.id,
        otherTenantId: b.id, otherSecret: await secretOf(s, b.id), issuer: s.config.jwtIssuer,
        trapUrl: `http://127.0.0.1:${(trap.address() as AddressInfo).port}/jwks.json`,
      };
    });
    after(async () => {
      await new Promise<void>((resolve) => trap.close(() => resolve()));
      await s.close();
    });

    test('the genuine token works (the attacks below start from it)', async () => {
      const res = await raw(s.baseUrl, 'GET', '/v1/me', { headers: { Authorization: `Bearer ${victim.token}` } });
      assert.equal(res.status, 200);
      const ws = await WsClient.connect(s.wsUrl, { headers: { Authorization: `Bearer ${victim.token}` } });
      await ws.first('connected');
      await ws.close();
    });

    test('every forged token is refused on REST and the WebSocket, and no header URL is fetched', async () => {
      let tried = 0;
      let refusals = 0;
      for (const [name, token] of attacks(victim)) {
        refusals += await assertRefused(s, name, { Authorization: `Bearer ${token}` }, token);
        tried++;
      }
      for (const [name, value] of [['Basic scheme', 'Basic YWxpY2U6cGFzcw=='], ['two tokens', `Bearer ${victim.token} ${victim.token}`], ['Bearer without a token', 'Bearer ']]) {
        refusals += await assertRefused(s, name!, { Authorization: value! });
        tried++;
      }
      assert.equal(trapHits, 0, 'a jku/x5u URL in a token header was fetched');
      console.log(`auth attacks [${backend.name}]: ${tried} forged credentials tried, ${refusals} refusals (REST 401, WebSocket 4003 on upgrade and auth frame), 0 accepted`);
    });

    test('credentials that were good stop working: deleted user, deleted tenant, rotated key, revoked token', async () => {
      let tried = 0;
      // Deleted user.
      await a.user('dave');
      const dave = await mint(a, 'dave');
      assert.equal((await a.client.DELETE('/v1/users/{user_id}', { params: { path: { user_id: 'dave' } } })).response.status, 200);
      await assertRefused(s, "a deleted user's token", { Authorization: `Bearer ${dave.token}` }, dave.token);
      await assertRefused(s, 'key + a deleted user', a.headers('dave'));
      tried += 2;
      // Revoked token.
      const revoked = await mint(a, 'alice');
      await a.client.DELETE('/v1/users/{user_id}/tokens/{token_id}', { params: { path: { user_id: 'alice', token_id: revoked.id } } });
      await assertRefused(s, 'a revoked token', { Authorization: `Bearer ${revoked.token}` }, revoked.token);
      tried++;
      // Deleted tenant: its key, key + user, and its tokens.
      const c = await s.tenant('doomed');
      await c.user('carl');
      const carl = await mint(c, 'carl');
      assert.equal((await s.master.DELETE('/v1/tenants/{tenant_id}', { params: { path: { tenant_id: c.id } } })).response.status, 200);
      await assertRefused(s, "a deleted tenant's key", c.headers());
      await assertRefused(s, "a deleted tenant's key + user", c.headers('carl'));
      await assertRefused(s, "a deleted tenant's token", { Authorization: `Bearer ${carl.token}` }, carl.token);
      tried += 3;
      // Rotated key: the old one stops at once, alone and with a user; the new one works.
      const d = await s.tenant('rotating');
      await d.user('dora');
      const rotated = await s.master.POST('/v1/tenants/{tenant_id}/keys', { params: { path: { tenant_id: d.id } } });
      assert.equal(rotated.response.status, 201);
      await assertRefused(s, 'a rotated-out key', d.headers());
      await assertRefused(s, 'a rotated-out key + user', d.headers('dora'));
      tried += 2;
      const fresh = await raw(s.baseUrl, 'GET', '/v1/me', { headers: { 'X-API-Key': rotated.data!.data.api_key, 'X-User-Id': 'dora' } });
      assert.equal(fresh.status, 200);
      // Keys and users of one tenant never combine with another's.
      await assertRefused(s, "A's key with another tenant's user", a.headers('carl'));
      await assertRefused(s, 'a wrong key', { 'X-API-Key': `${a.apiKey.slice(0, -2)}xx`, 'X-User-Id': 'alice' });
      tried += 2;
      // One-time WebSocket tickets: a used one, forged ones.
      const issued = await raw(s.baseUrl, 'POST', '/v1/realtime/tickets', { headers: a.headers('alice') });
      assert.equal(issued.status, 201);
      const ticket = issued.body.data.ticket as string;
      const first = await WsClient.connect(`${s.wsUrl}?ticket=${encodeURIComponent(ticket)}`);
      await first.first('connected');
      await first.close();
      for (const [name, forged] of [['a used ticket', ticket], ['a forged ticket', `tk_${'A'.repeat(43)}`], ['a truncated ticket', ticket.slice(0, -3)],
        ['an oversized ticket', 'x'.repeat(6000)], ['a ticket that is a token', victim.token]]) {
        const c = await WsClient.connect(`${s.wsUrl}?ticket=${encodeURIComponent(forged!)}`, { label: name });
        const closed = await c.closed;
        assert.equal(closed.code, CloseCode.BAD_CREDENTIALS, `WebSocket with ${name}: closed ${closed.code}`);
        tried++;
      }
      console.log(`auth attacks [${backend.name}]: ${tried} once-valid or mixed credentials tried, all refused`);
    });
  });
}

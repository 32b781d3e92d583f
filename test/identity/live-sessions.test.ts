/**
 * Live sessions follow credentials: revoking a token (directly, by logout, or by a reused refresh
 * token), deleting the user or tenant, and rotating the tenant key that opened a socket each close
 * it with 4010 within a second; a permission change applies to the open socket in place. Run on
 * one node, and with REST on one node and the socket on another, over Redis (TEST_REDIS_URL).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, before, after, test } from 'node:test';
import { Redis } from 'ioredis';
import { start, type RunningServer } from '../../src/server.ts';
import { createLogger } from '../../src/log.ts';
import { backends } from '../helpers/backends.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { WsClient } from '../helpers/ws-client.ts';
import { signInTenant, type SignInTenant } from './helpers.ts';

const REDIS_URL = process.env.TEST_REDIS_URL;

interface Setup { s: TestServer; wsUrl: string; close(): Promise<void> }

async function oneNode(backend: Parameters<typeof startTestServer>[0]): Promise<Setup> {
  const s = await startTestServer(backend);
  return { s, wsUrl: s.wsUrl, close: () => s.close() };
}

/** REST on the test server (no WS), the WebSocket on a second process-like node; both on Redis. */
async function twoNodes(backend: Parameters<typeof startTestServer>[0]): Promise<Setup> {
  const prefix = `chatapi-test-${randomBytes(6).toString('hex')}:`;
  const s = await startTestServer(backend, { redisUrl: REDIS_URL, redisPrefix: prefix }, { ws: false });
  const ws: RunningServer = await start(s.config, { http: false, log: createLogger('silent') });
  return {
    s, wsUrl: `ws://127.0.0.1:${ws.wsPort}/v1/ws`,
    async close() {
      await ws.close();
      await s.close();
      const redis = new Redis(REDIS_URL!);
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length) await redis.del(...keys);
      await redis.quit();
    },
  };
}

const modes = [{ name: 'one node', setup: oneNode }, ...(REDIS_URL ? [{ name: 'two nodes over Redis', setup: twoNodes }] : [])];

for (const backend of backends()) {
  for (const mode of modes) {
    describe(`live sessions follow credentials [${backend.name}, ${mode.name}]`, () => {
      let env: Setup;
      let t: SignInTenant;
      before(async () => {
        env = await mode.setup(backend);
        t = await signInTenant(env.s, { password: true });
      });
      after(() => env.close());

      const connect = async (headers: Record<string, string>) => {
        const ws = await WsClient.connect(env.wsUrl, { headers });
        await ws.first('connected');
        return ws;
      };
      /** Runs `act` and returns how long the socket took to close after it, with the close code. */
      const closedBy = async (ws: WsClient, act: () => Promise<unknown>) => {
        const started = performance.now();
        await act();
        let timer: NodeJS.Timeout | undefined;
        const { code } = await Promise.race([
          ws.closed,
          new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error('the socket stayed open for 5 s')), 5000); }),
        ]).finally(() => clearTimeout(timer));
        return { code, ms: performance.now() - started };
      };
      const mint = async (userId: string) =>
        (await t.client.POST('/v1/users/{user_id}/tokens', { params: { path: { user_id: userId } }, body: {} })).data!.data;

      test('revoking the token closes its socket with 4010; another token of the user stays', async () => {
        await t.user('ann');
        const [one, two] = [await mint('ann'), await mint('ann')];
        const a = await connect({ Authorization: `Bearer ${one.token}` });
        const b = await connect({ Authorization: `Bearer ${two.token}` });
        const { code, ms } = await closedBy(a, () =>
          t.client.DELETE('/v1/users/{user_id}/tokens/{token_id}', { params: { path: { user_id: 'ann', token_id: one.token_id } } }));
        assert.equal(code, 4010);
        assert.ok(ms < 1000, `closed after ${ms.toFixed(0)} ms`);
        b.send({ type: 'ping', ref: 'still-here' });
        await b.first('pong');
        b.socket.close();
      });

      test('logout and a replayed refresh token close the sessions of their family', async () => {
        const reg = (await t.browser.POST('/v1/auth/register', { body: { username: 'ben', password: 'ben password 1' } })).data!.data;
        const ws = await connect({ Authorization: `Bearer ${reg.access_token.token}` });
        assert.equal((await closedBy(ws, () => t.browser.POST('/v1/auth/logout', { body: { refresh_token: reg.refresh_token } }))).code, 4010);

        const login = (await t.browser.POST('/v1/auth/login', { body: { username: 'ben', password: 'ben password 1' } })).data!.data;
        const next = (await t.browser.POST('/v1/auth/refresh', { body: { refresh_token: login.refresh_token } })).data!.data;
        const ws2 = await connect({ Authorization: `Bearer ${next.access_token.token}` });
        const replay = await closedBy(ws2, () => t.browser.POST('/v1/auth/refresh', { body: { refresh_token: login.refresh_token } }));
        assert.equal(replay.code, 4010, 'a stolen refresh token, replayed, ends the victim’s session too');
      });

      test('a permission change applies to the open socket in place', async () => {
        const carl = await t.user('carl');
        const roomId = (await carl.POST('/v1/rooms', { body: { type: 'group', name: 'r', members: [] } })).data!.data.id;
        const ws = await connect({ Authorization: `Bearer ${(await mint('carl')).token}` });
        await t.client.PATCH('/v1/users/{user_id}', { params: { path: { user_id: 'carl' } }, body: { permissions: { can_send_message: false } } });
        // The signal travels the bus; poll the socket's view (each send is one round trip) rather than sleep.
        let code: string | undefined;
        for (let i = 0; i < 50 && code !== 'AUTHORIZATION_ERROR'; i++) {
          ws.send({ type: 'message.send', room_id: roomId, content: 'x', client_msg_id: `p${i}` });
          const reply = await ws.waitFor((f) => (f.type === 'message.ack' || f.type === 'error') && (f as { client_msg_id?: string }).client_msg_id === `p${i}`);
          code = reply.type === 'error' ? reply.code : undefined;
        }
        assert.equal(code, 'AUTHORIZATION_ERROR');
        ws.socket.close();
      });

      test('deleting the user, rotating the key that opened a socket, deleting the tenant: 4010', async () => {
        await t.user('dora');
        const byToken = await connect({ Authorization: `Bearer ${(await mint('dora')).token}` });
        assert.equal((await closedBy(byToken, () => t.client.DELETE('/v1/users/{user_id}', { params: { path: { user_id: 'dora' } } }))).code, 4010);

        await t.user('eve');
        const byKey = await connect(t.headers('eve'));
        const byEveToken = await connect({ Authorization: `Bearer ${(await mint('eve')).token}` });
        const rotated = await closedBy(byKey, () => env.s.master.POST('/v1/tenants/{tenant_id}/keys', { params: { path: { tenant_id: t.id } } }));
        assert.equal(rotated.code, 4010);
        byEveToken.send({ type: 'ping', ref: 'token-session-survives-key-rotation' });
        await byEveToken.first('pong');
        assert.equal((await closedBy(byEveToken, () => env.s.master.DELETE('/v1/tenants/{tenant_id}', { params: { path: { tenant_id: t.id } } }))).code, 4010);
      });
    });
  }
}

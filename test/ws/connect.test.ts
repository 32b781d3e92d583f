/** Connecting: three ways to authenticate, bad and missing credentials, Origin, frame validation and size. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CloseCode } from '../../src/ws/close-codes.ts';
import { backends } from '../helpers/backends.ts';
import { WsClient } from '../helpers/ws-client.ts';
import { type WsWorld, startWorld, track } from './harness.ts';

async function ticketFor(w: WsWorld, userId: string): Promise<string> {
  const user = await w.server.running.domain.users.resolve(w.tenant.id, userId);
  const { ticket } = await w.tickets.issue({ kind: 'user', tenantId: w.tenant.id, user: user!, via: 'token' });
  return ticket;
}

for (const backend of backends()) {
  describe(`ws connect (${backend.name})`, () => {
    test('Bearer, X-API-Key + X-User-Id, one-time ticket, and a first auth frame all connect', async (t) => {
      const w = await startWorld(t, backend);
      await w.users('alice');
      const bearer = track(t, await WsClient.connect(w.wsUrl, { headers: { Authorization: `Bearer ${await w.token('alice')}` } }));
      const key = track(t, await WsClient.connect(w.wsUrl, { headers: { 'X-API-Key': w.tenant.apiKey, 'X-User-Id': 'alice' } }));
      const ticket = track(t, await WsClient.connect(`${w.wsUrl}?ticket=${await ticketFor(w, 'alice')}`));
      const frame = track(t, await WsClient.connect(w.wsUrl));
      frame.send({ type: 'auth', token: await w.token('alice') });
      for (const c of [bearer, key, ticket, frame]) assert.equal((await c.first('connected')).user.id, 'alice');
    });

    test('a ticket works once', async (t) => {
      const w = await startWorld(t, backend);
      await w.users('alice');
      const ticket = await ticketFor(w, 'alice');
      const first = track(t, await WsClient.connect(`${w.wsUrl}?ticket=${ticket}`));
      await first.first('connected');
      const again = track(t, await WsClient.connect(`${w.wsUrl}?ticket=${ticket}`));
      assert.equal((await again.closed).code, CloseCode.BAD_CREDENTIALS);
    });

    test('bad credentials close with 4003', async (t) => {
      const w = await startWorld(t, backend);
      await w.users('alice');
      const attempts: Record<string, string>[] = [
        { Authorization: 'Bearer not-a-token' },
        { Authorization: 'Basic abc' },
        { 'X-API-Key': 'wrong-key', 'X-User-Id': 'alice' },
        { 'X-API-Key': w.tenant.apiKey },
        { 'X-API-Key': w.tenant.apiKey, 'X-User-Id': 'nobody' },
      ];
      for (const headers of attempts) {
        const c = track(t, await WsClient.connect(w.wsUrl, { headers }));
        const closed = await c.closed;
        assert.equal(closed.code, CloseCode.BAD_CREDENTIALS, JSON.stringify(headers));
        assert.equal(c.frames.length, 0);
      }
      const badTicket = track(t, await WsClient.connect(`${w.wsUrl}?ticket=tk_${'x'.repeat(43)}`));
      assert.equal((await badTicket.closed).code, CloseCode.BAD_CREDENTIALS);
      const badFrame = track(t, await WsClient.connect(w.wsUrl));
      badFrame.send({ type: 'auth', token: 'nope' });
      assert.equal((await badFrame.closed).code, CloseCode.BAD_CREDENTIALS);
      for (const token of ['x'.repeat(5000), '', 42]) {
        const refused = track(t, await WsClient.connect(w.wsUrl));
        refused.send({ type: 'auth', token });
        assert.equal((await refused.closed).code, CloseCode.BAD_CREDENTIALS, `auth frame with token ${JSON.stringify(token).slice(0, 20)}`);
      }
    });

    test('no auth frame in time closes with 4001; other frames first are errors', async (t) => {
      const w = await startWorld(t, backend, { wsAuthTimeoutMs: 300 });
      const c = track(t, await WsClient.connect(w.wsUrl));
      c.send({ type: 'ping', ref: 'p1' });
      const err = await c.first('error');
      assert.equal(err.code, 'AUTHENTICATION_ERROR');
      assert.equal(err.ref, 'p1');
      assert.equal((await c.closed).code, CloseCode.AUTH_TIMEOUT);
    });

    test('an Origin outside the tenant allow-list is closed with 4009, whichever way the credentials came', async (t) => {
      const w = await startWorld(t, backend);
      await w.users('alice');
      const patched = await w.server.master.PATCH('/v1/tenants/{tenant_id}', {
        params: { path: { tenant_id: w.tenant.id } }, body: { settings: { allowed_origins: ['https://app.example'] } },
      });
      assert.equal(patched.response.status, 200);
      const token = await w.token('alice');
      const refused = [
        track(t, await WsClient.connect(w.wsUrl, { headers: { Authorization: `Bearer ${token}`, Origin: 'https://evil.example' } })),
        track(t, await WsClient.connect(`${w.wsUrl}?ticket=${await ticketFor(w, 'alice')}`, { headers: { Origin: 'https://evil.example' } })),
      ];
      for (const c of refused) assert.equal((await c.closed).code, CloseCode.ORIGIN_REFUSED);
      assert.equal(refused.some((c) => c.frames.length > 0), false, 'nothing is sent before the refusal');
      const ok = track(t, await WsClient.connect(w.wsUrl, { headers: { Authorization: `Bearer ${token}`, Origin: 'https://app.example' } }));
      await ok.first('connected');
      // credentials in a first frame: the same close code
      const late = track(t, await WsClient.connect(w.wsUrl, { headers: { Origin: 'https://evil.example' } }));
      late.send({ type: 'auth', token });
      assert.equal((await late.closed).code, CloseCode.ORIGIN_REFUSED);
    });

    test('invalid frames get an error and the connection stays open', async (t) => {
      const w = await startWorld(t, backend);
      const [alice] = await w.users('alice');
      const roomId = await w.room(alice!, []);
      const c = await w.connect('alice');
      c.sendRaw('{not json');
      assert.match((await c.first('error', (e) => /JSON/.test(e.message))).code, /VALIDATION_ERROR/);
      c.send({ type: 'nope', ref: 'u1' });
      const unknown = await c.first('error', (e) => e.ref === 'u1');
      assert.equal(unknown.frame, 'nope');
      c.send({ type: 'message.send', room_id: roomId, client_msg_id: 'm-1', extra: 1 });
      const missing = await c.first('error', (e) => e.client_msg_id === 'm-1');
      assert.equal(missing.code, 'VALIDATION_ERROR');
      assert.deepEqual(missing.details?.map((d) => d.field).sort(), ['content', 'extra']);
      c.sendRaw(Buffer.from('{"type":"ping"}'), true);
      await c.first('error', (e) => /binary/.test(e.message));
      c.send({ type: 'ping', ref: 'still-open' });
      assert.equal((await c.first('pong')).ref, 'still-open');
    });

    test('the node answers /health for load balancers, and 404 elsewhere', async (t) => {
      const w = await startWorld(t, backend);
      const base = w.wsUrl.replace('ws://', 'http://').replace('/v1/ws', '');
      const health = await fetch(`${base}/health`);
      assert.equal(health.status, 200);
      assert.deepEqual(((await health.json()) as { data: unknown }).data, { status: 'ok', connections: 0, bus: 'memory' });
      assert.equal((await fetch(`${base}/elsewhere`)).status, 404);
    });

    test('a frame over the size limit closes with 1009', async (t) => {
      const w = await startWorld(t, backend, { wsMaxPayloadBytes: 4096 });
      await w.users('alice');
      const c = await w.connect('alice');
      c.sendRaw(JSON.stringify({ type: 'ping', ref: 'x'.repeat(5000) }));
      assert.equal((await c.closed).code, CloseCode.TOO_BIG);
    });
  });
}

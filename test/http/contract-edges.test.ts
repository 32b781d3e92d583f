/**
 * Responses that used to fall outside the contract (issue 7, fault 5), each now either documented
 * in spec/openapi.yaml or not answered, and checked against the spec (test/helpers/contract.ts):
 *  - a body on GET/DELETE answered 413 (or 400): such bodies are ignored now;
 *  - 400 for unknown query parameters on /health, /ready, /v1/rate-limit, and 403 on
 *    listRoomMessages / getMessage / listMessages: documented;
 *  - Node's own 400 (unreadable request) and 431 (headers over 16 KiB) had empty bodies: the envelope;
 *  - allowed_origins entries were measured in UTF-16 units, the schema in code points.
 */
import { describe, before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { createRequire } from 'node:module';
import { backends } from '../helpers/backends.ts';
import { startTestServer, type TestServer, type TestTenant } from '../helpers/server.ts';
import { checkResponse } from '../helpers/contract.ts';

const { Error: validateError } = createRequire(import.meta.url)('../../generated/validators.cjs') as typeof import('../../generated/validators.cjs');

function assertEnvelope(body: { success: unknown; data: unknown; error: unknown }) {
  assert.equal(body.success, false);
  assert.equal(body.data, null);
  assert.ok(validateError(body.error), JSON.stringify(validateError.errors));
}

/** A request with a body on any method (fetch refuses bodies on GET), checked against the spec. */
function request(port: number, method: string, path: string, headers: Record<string, string>, body?: string) {
  return new Promise<{ status: number; body: any }>((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, headers: { ...headers, ...(body ? { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(body)) } : {}) } }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', async () => {
        try {
          const parsed = JSON.parse(text);
          const h = new Headers(Object.entries(res.headers).map(([k, v]) => [k, String(v)] as [string, string]));
          await checkResponse(method, path.split('?')[0]!, res.statusCode!, h, parsed);
          resolve({ status: res.statusCode!, body: parsed });
        } catch (err) {
          reject(err);
        }
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Bytes straight onto a socket (what Node's parser refuses never reaches Koa); the raw answer. */
function rawExchange(port: number, text: string): Promise<string> {
  return new Promise((resolve) => {
    let out = '';
    const socket = net.connect(port, '127.0.0.1', () => socket.write(text));
    socket.on('data', (d) => (out += d.toString()));
    socket.on('close', () => resolve(out));
    socket.on('error', () => resolve(out));
  });
}

function envelopeOf(answer: string): { status: number; body: any } {
  const [head, body] = answer.split('\r\n\r\n');
  assert.match(head!, /x-request-id: [0-9a-f-]{36}/i);
  return { status: Number(head!.split(' ')[1]), body: JSON.parse(body!) };
}

for (const backend of backends()) {
  describe(`responses within the contract [${backend.name}]`, () => {
    let s: TestServer;
    let t: TestTenant;
    let roomId: string;
    before(async () => {
      s = await startTestServer(backend, {}, { ws: false });
      t = await s.tenant();
      const alice = await t.user('alice');
      roomId = (await alice.POST('/v1/rooms', { body: { type: 'group', name: 'r', members: [] } })).data!.data.id;
    });
    after(() => s.close());

    test('a body on GET or DELETE is ignored: no 413, no 400', async () => {
      const big = JSON.stringify({ pad: 'x'.repeat(70_000) });
      const health = await request(s.running.httpPort, 'GET', '/health', {}, big);
      assert.equal(health.status, 200, JSON.stringify(health.body));
      const me = await request(s.running.httpPort, 'GET', '/v1/me', t.headers('alice'), '{not json');
      assert.equal(me.status, 200, JSON.stringify(me.body));
      const sent = await t.as('alice').POST('/v1/rooms/{room_id}/messages', { params: { path: { room_id: roomId } }, body: { content: 'bye' } });
      const del = await request(s.running.httpPort, 'DELETE', `/v1/rooms/${roomId}/messages/${sent.data!.data.id}`, t.headers('alice'), big);
      assert.equal(del.status, 200);
    });

    test('unknown query parameters on /health, /ready, /v1/rate-limit: a documented 400', async () => {
      for (const path of ['/health?verbose=1', '/ready?verbose=1', '/v1/rate-limit?verbose=1']) {
        const res = await request(s.running.httpPort, 'GET', path, t.headers());
        assert.equal(res.status, 400, path);
        assert.equal(res.body.error.code, 'VALIDATION_ERROR');
      }
    });

    test('a member who may not read: a documented 403 on listRoomMessages, getMessage, listMessages', async () => {
      await t.client.POST('/v1/users', { body: { id: 'mute', username: 'mute', permissions: { can_receive_message: false } } });
      await t.as('alice').POST('/v1/rooms/{room_id}/members', { params: { path: { room_id: roomId } }, body: { user_id: 'mute' } });
      const sent = await t.as('alice').POST('/v1/rooms/{room_id}/messages', { params: { path: { room_id: roomId } }, body: { content: 'hi' } });
      const mute = t.as('mute');
      const answers = [
        await mute.GET('/v1/rooms/{room_id}/messages', { params: { path: { room_id: roomId } } }),
        await mute.GET('/v1/rooms/{room_id}/messages/{message_id}', { params: { path: { room_id: roomId, message_id: sent.data!.data.id } } }),
        await mute.GET('/v1/messages', {}),
      ];
      assert.deepEqual(answers.map((a) => a.response.status), [403, 403, 403]);
    });

    test("Node's parser refusals carry the envelope: 400 for an unreadable request, 431 for headers over 16 KiB", async () => {
      const garbage = envelopeOf(await rawExchange(s.running.httpPort, 'NOT A REQUEST\r\n\r\n'));
      assert.equal(garbage.status, 400);
      assertEnvelope(garbage.body);
      assert.equal(garbage.body.error.code, 'VALIDATION_ERROR');
      const huge = envelopeOf(await rawExchange(s.running.httpPort, `GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(17_000)}\r\n\r\n`));
      assert.equal(huge.status, 431);
      assertEnvelope(huge.body);
      assert.equal(huge.body.error.code, 'HEADERS_TOO_LARGE');
    });

    test('allowed_origins entries are measured in code points, as the schema says', async () => {
      const emojiOrigin = `https://${'😀'.repeat(150)}.example`; // 169 code points, 319 UTF-16 units
      const ok = await s.master.PATCH('/v1/tenants/{tenant_id}', { params: { path: { tenant_id: t.id } }, body: { settings: { allowed_origins: [emojiOrigin] } } });
      assert.equal(ok.response.status, 200, JSON.stringify(ok.error));
      assert.deepEqual(ok.data!.data.settings.allowed_origins, [emojiOrigin]);
      const tooLong = await s.master.PATCH('/v1/tenants/{tenant_id}', { params: { path: { tenant_id: t.id } }, body: { settings: { allowed_origins: [`https://${'a'.repeat(193)}`] } } });
      assert.equal(tooLong.response.status, 400);
    });
  });
}

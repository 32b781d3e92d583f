/**
 * Bad input gets a clear error in the envelope, never a 500: schema violations name each field,
 * malformed JSON is 400, oversized bodies 413, unknown paths 404, wrong methods 405, and every
 * error carries a request id equal to the X-Request-Id header. Nothing leaks a stack or SQL.
 */
import { describe, before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import { backends } from '../helpers/backends.ts';
import { startTestServer, type TestServer, type TestTenant } from '../helpers/server.ts';

const LEAKS = /(\bat\s+\S+\s\(|node_modules|SELECT |INSERT |sqlite|mysql|Error:)/i;

for (const backend of backends()) {
  describe(`bad input [${backend.name}]`, () => {
    let s: TestServer;
    let t: TestTenant;
    let roomId: string;
    before(async () => {
      s = await startTestServer(backend, { bodyLimitBytes: 4096 }, { ws: false });
      t = await s.tenant();
      const alice = await t.user('alice');
      await t.user('bob');
      const room = await alice.POST('/v1/rooms', { body: { type: 'group', name: 'g', members: ['bob'] } });
      roomId = room.data!.data.id;
    });
    after(() => s.close());

    const json = (userId = 'alice') => ({ ...t.headers(userId), 'Content-Type': 'application/json' });

    test('schema violations answer 400 VALIDATION_ERROR naming each field', async () => {
      const res = await s.raw('POST', `/v1/rooms/${roomId}/messages`, {
        headers: json(), body: JSON.stringify({ content: '', meta: 'not-an-object', extra: 1 }),
      });
      assert.equal(res.status, 400);
      assert.equal(res.body.error.code, 'VALIDATION_ERROR');
      const fields = res.body.error.details.map((d: { field: string }) => d.field).sort();
      assert.ok(fields.includes('body.content'), `details: ${JSON.stringify(res.body.error.details)}`);
      assert.ok(fields.includes('body.meta'));
      assert.ok(fields.includes('body.extra'));
    });

    test('a missing required field and a bad query parameter are named', async () => {
      const res = await s.raw('POST', '/v1/rooms', { headers: json(), body: JSON.stringify({ name: 'x' }) });
      assert.equal(res.status, 400);
      const fields = res.body.error.details.map((d: { field: string }) => d.field);
      assert.ok(fields.includes('body.type') && fields.includes('body.members'), JSON.stringify(fields));
      const q = await s.raw('GET', `/v1/rooms/${roomId}/messages?limit=100000`, { headers: t.headers('alice') });
      assert.equal(q.status, 400);
      assert.deepEqual(q.body.error.details.map((d: { field: string }) => d.field), ['query.limit']);
    });

    test('malformed JSON answers 400, not 500', async () => {
      const res = await s.raw('POST', `/v1/rooms/${roomId}/messages`, { headers: json(), body: '{"content": "hi",' });
      assert.equal(res.status, 400);
      assert.equal(res.body.error.code, 'VALIDATION_ERROR');
      assert.match(res.body.error.message, /JSON/);
    });

    test('a body over the limit answers 413 PAYLOAD_TOO_LARGE', async () => {
      const res = await s.raw('POST', `/v1/rooms/${roomId}/messages`, {
        headers: json(), body: JSON.stringify({ content: 'x', meta: { pad: 'y'.repeat(5000) } }),
      });
      assert.equal(res.status, 413);
      assert.equal(res.body.error.code, 'PAYLOAD_TOO_LARGE');
    });

    test('an unknown path answers 404 and a wrong method 405 with Allow', async () => {
      const missing = await s.raw('GET', '/v1/nothing-here', { headers: t.headers('alice') });
      assert.equal(missing.status, 404);
      assert.equal(missing.body.error.code, 'NOT_FOUND');
      const wrong = await s.raw('PUT', `/v1/rooms/${roomId}/messages`, { headers: json(), body: '{}' });
      assert.equal(wrong.status, 405);
      assert.equal(wrong.body.error.code, 'METHOD_NOT_ALLOWED');
      assert.match(wrong.headers.get('allow') ?? '', /GET/);
      assert.match(wrong.headers.get('allow') ?? '', /POST/);
    });

    test('the request id is echoed, and a well-formed incoming one is kept', async () => {
      const res = await s.raw('GET', '/v1/nothing-here', { headers: { 'X-Request-Id': 'trace-12345678' } });
      assert.equal(res.headers.get('x-request-id'), 'trace-12345678');
      assert.equal(res.body.error.request_id, 'trace-12345678');
    });

    test('non-JSON bodies are refused clearly', async () => {
      const res = await s.raw('POST', `/v1/rooms/${roomId}/messages`, {
        headers: { ...t.headers('alice'), 'Content-Type': 'text/plain' }, body: 'hello',
      });
      assert.equal(res.status, 400);
      assert.equal(res.body.error.code, 'VALIDATION_ERROR');
    });

    test('no error body leaks stack traces or SQL', async () => {
      const bad = [
        s.raw('POST', `/v1/rooms/${roomId}/messages`, { headers: json(), body: '{"content":' }),
        s.raw('GET', `/v1/rooms/${'x'.repeat(64)}/messages`, { headers: t.headers('alice') }),
        s.raw('POST', '/v1/acks', { headers: json(), body: JSON.stringify({ room_id: roomId, seq: 10 ** 9 }) }),
        s.raw('POST', '/v1/users', { headers: { ...t.headers(), 'Content-Type': 'application/json' }, body: JSON.stringify({ id: 'alice', username: 'alice' }) }),
      ];
      for (const res of await Promise.all(bad)) {
        assert.ok(res.status >= 400 && res.status < 500, `status ${res.status}: ${JSON.stringify(res.body)}`);
        assert.doesNotMatch(JSON.stringify(res.body.error), LEAKS);
      }
    });
  });
}

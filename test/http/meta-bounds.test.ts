/**
 * `meta` nested thousands deep used to overflow the stack in JSON.stringify: a 500 on sendMessage
 * and editMessage, an INTERNAL_ERROR frame on WS message.send (issue 7, fault 2). Nesting depth and
 * key count are bounded before any recursive work (spec/schemas/message-meta.yaml): 400
 * VALIDATION_ERROR naming `meta`, and on the WebSocket an `error` frame naming the client_msg_id.
 * Bodies are written by hand: a JSON.stringify in the test itself would overflow the same way.
 */
import { describe, before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import { backends } from '../helpers/backends.ts';
import { startTestServer, type TestServer, type TestTenant } from '../helpers/server.ts';
import { WsClient } from '../helpers/ws-client.ts';

/** `{"meta":{"a":{"a":…{}…}}}` nested `depth` objects deep (5,000 levels ≈ 30 KB), as JSON text. */
const deepMeta = (depth: number) => `${'{"a":'.repeat(depth - 1)}{}${'}'.repeat(depth - 1)}`;
const wideMeta = (keys: number) => `{${Array.from({ length: keys }, (_, i) => `"k${i}":${i}`).join(',')}}`;

interface ErrorBody { error: { code: string; details: { field?: string }[] } }

function assertMetaRefused(res: { status: number; body: unknown }, bound: RegExp) {
  assert.equal(res.status, 400, JSON.stringify(res.body).slice(0, 300));
  const { error } = res.body as ErrorBody;
  assert.equal(error.code, 'VALIDATION_ERROR');
  assert.ok(error.details.some((d) => d.field === 'meta' && bound.test(JSON.stringify(d))), JSON.stringify(error.details));
}

for (const backend of backends()) {
  describe(`meta nesting and size bounds [${backend.name}]`, () => {
    let s: TestServer;
    let t: TestTenant;
    let roomId: string;
    const json = { 'Content-Type': 'application/json' };
    before(async () => {
      s = await startTestServer(backend);
      t = await s.tenant();
      const alice = await t.user('alice');
      roomId = (await alice.POST('/v1/rooms', { body: { type: 'group', name: 'r', members: [] } })).data!.data.id;
    });
    after(() => s.close());

    test('sendMessage: 5,000 levels deep and 600 keys are 400 VALIDATION_ERROR; 16 levels are stored', async () => {
      const path = `/v1/rooms/${roomId}/messages`;
      const headers = { ...t.headers('alice'), ...json };
      assertMetaRefused(await s.raw('POST', path, { headers, body: `{"content":"deep","meta":${deepMeta(5000)}}` }), /16 levels/);
      assertMetaRefused(await s.raw('POST', path, { headers, body: `{"content":"deep","meta":${deepMeta(17)}}` }), /16 levels/);
      assertMetaRefused(await s.raw('POST', path, { headers, body: `{"content":"wide","meta":${wideMeta(600)}}` }), /512 keys/);
      const ok = await s.raw('POST', path, { headers, body: `{"content":"at the bound","meta":${deepMeta(16)}}` });
      assert.equal(ok.status, 201, JSON.stringify(ok.body));
    });

    test('editMessage: 5,000 levels deep is 400 VALIDATION_ERROR and the message is unchanged', async () => {
      const alice = t.as('alice');
      const sent = await alice.POST('/v1/rooms/{room_id}/messages', { params: { path: { room_id: roomId } }, body: { content: 'to edit', meta: { v: 1 } } });
      const id = sent.data!.data.id;
      const res = await s.raw('PATCH', `/v1/rooms/${roomId}/messages/${id}`, { headers: { ...t.headers('alice'), ...json }, body: `{"meta":${deepMeta(5000)}}` });
      assertMetaRefused(res, /16 levels/);
      const after = await alice.GET('/v1/rooms/{room_id}/messages/{message_id}', { params: { path: { room_id: roomId, message_id: id } } });
      assert.deepEqual(after.data!.data.meta, { v: 1 });
    });

    test('WS message.send: 5,000 levels deep answers an error frame naming the client_msg_id; the socket stays usable', async (tc) => {
      const token = (await t.client.POST('/v1/users/{user_id}/tokens', { params: { path: { user_id: 'alice' } }, body: {} })).data!.data.token;
      const ws = await WsClient.connect(s.wsUrl, { headers: { Authorization: `Bearer ${token}` }, label: 'alice' });
      tc.after(() => ws.close());
      await ws.first('connected');
      ws.sendRaw(`{"type":"message.send","room_id":"${roomId}","content":"deep","client_msg_id":"deep-1","meta":${deepMeta(5000)}}`);
      const error = await ws.first('error', (f) => f.client_msg_id === 'deep-1');
      assert.equal(error.code, 'VALIDATION_ERROR');
      assert.ok(error.details?.some((d) => d.field === 'meta'), JSON.stringify(error));
      ws.send({ type: 'message.send', room_id: roomId, content: 'after', client_msg_id: 'deep-2' });
      assert.equal((await ws.first('message.ack', (f) => f.client_msg_id === 'deep-2')).created, true);
      ws.assertValid();
    });
  });
}

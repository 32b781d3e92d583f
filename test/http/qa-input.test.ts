/**
 * QA: bad and unusual input through every layer, as an integrator would send it. Each rule answers
 * a clear 400 (or the documented status) in the envelope, never a 500, and what is stored is exactly
 * what the caller was told was stored.
 */
import { describe, before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import { backends } from '../helpers/backends.ts';
import { startTestServer, type TestServer, type TestTenant } from '../helpers/server.ts';
import type { ApiClient } from '../helpers/client.ts';

const cursor = (json: string) => Buffer.from(json).toString('base64url');

async function newRoom(owner: ApiClient, members: string[], name = 'room'): Promise<string> {
  const res = await owner.POST('/v1/rooms', { body: { type: 'group', name, members } });
  assert.equal(res.response.status, 201, JSON.stringify(res.error));
  return res.data!.data.id;
}

const send = (c: ApiClient, roomId: string, body: { content: string; meta?: Record<string, unknown> | null; client_msg_id?: string }) =>
  c.POST('/v1/rooms/{room_id}/messages', { params: { path: { room_id: roomId } }, body });

function assertValidation(res: { response: Response; error?: unknown }, field: RegExp) {
  assert.equal(res.response.status, 400, JSON.stringify(res.error));
  const error = (res.error as { error: { code: string; details: { field?: string }[] } }).error;
  assert.equal(error.code, 'VALIDATION_ERROR');
  assert.ok(error.details.some((d) => field.test(d.field ?? '')), `details name ${field}: ${JSON.stringify(error.details)}`);
}

for (const backend of backends()) {
  describe(`qa: input edge cases [${backend.name}]`, () => {
    let s: TestServer;
    let t: TestTenant;
    let alice: ApiClient;
    let bob: ApiClient;
    let roomId: string;
    before(async () => {
      s = await startTestServer(backend, {}, { ws: false });
      t = await s.tenant();
      alice = await t.user('alice');
      bob = await t.user('bob');
      roomId = await newRoom(alice, ['bob']);
    });
    after(() => s.close());

    test('cursors that this API never returned are 400 on every paginated list, never 500', async () => {
      const forged = [
        'not-a-cursor!', // not base64url JSON
        cursor('[1e400,"x"]'), // Infinity: used to reach SQL as a bare word on MySQL
        cursor('[1.5,"x"]'), // not an integer
        cursor('[-1,"x"]'), // negative
        cursor('["1","x"]'), // wrong types
        cursor('[1]'), // wrong arity
      ];
      for (const c of forged) {
        assertValidation(await t.client.GET('/v1/users', { params: { query: { cursor: c } } }), /cursor/);
        assertValidation(await s.master.GET('/v1/tenants', { params: { query: { cursor: c } } }), /cursor/);
        assertValidation(await alice.GET('/v1/rooms', { params: { query: { cursor: c } } }), /cursor/);
      }
      for (const c of ['garbage', cursor('[1e400]'), cursor('[1.5]'), cursor('[-5]'), cursor('["7"]')]) {
        assertValidation(await alice.GET('/v1/messages', { params: { query: { after: c } } }), /after/);
      }
    });

    test('real cursors still page: users, two at a time, each exactly once', async () => {
      for (const id of ['p1', 'p2', 'p3']) await t.user(id);
      const seen: string[] = [];
      let next: string | null | undefined;
      do {
        const res = await t.client.GET('/v1/users', { params: { query: { limit: 2, ...(next ? { cursor: next } : {}) } } });
        assert.equal(res.response.status, 200, JSON.stringify(res.error));
        seen.push(...res.data!.data.items.map((u) => u.id));
        next = res.data!.data.next_cursor;
      } while (next);
      assert.equal(new Set(seen).size, seen.length);
      for (const id of ['alice', 'bob', 'p1', 'p2', 'p3']) assert.ok(seen.includes(id), id);
    });

    test('limit is bounded 1..200 everywhere', async () => {
      for (const limit of [0, 201]) {
        assertValidation(await t.client.GET('/v1/users', { params: { query: { limit } } }), /limit/);
        assertValidation(await alice.GET('/v1/rooms/{room_id}/messages', { params: { path: { room_id: roomId }, query: { limit } } }), /limit/);
        assertValidation(await alice.GET('/v1/messages', { params: { query: { limit } } }), /limit/);
      }
    });

    test('history windows at the edges: after_seq beyond last_seq and before_seq=1 are empty, not errors', async () => {
      const room = await newRoom(alice, ['bob'], 'edges');
      for (const content of ['one', 'two']) assert.equal((await send(alice, room, { content })).response.status, 201);
      const list = (query: Record<string, number>) => alice.GET('/v1/rooms/{room_id}/messages', { params: { path: { room_id: room }, query } });
      for (const query of [{ after_seq: 2 }, { after_seq: 1_000_000 }, { before_seq: 1 }, { after_seq: 2, before_seq: 1 }] as Record<string, number>[]) {
        const res = await list(query);
        assert.equal(res.response.status, 200, JSON.stringify(query));
        assert.deepEqual(res.data!.data, { items: [], has_more: false }, JSON.stringify(query));
      }
      assert.deepEqual((await list({ before_seq: 2 })).data!.data.items.map((m) => m.seq), [1]);
      assert.deepEqual((await list({ after_seq: 0, limit: 1 })).data!.data, { items: [(await list({ before_seq: 2 })).data!.data.items[0]!], has_more: true });
      assertValidation(await list({ after_seq: 2 ** 53 }), /after_seq/);
    });

    test('content length counts code points: 4000 emoji are accepted and stored intact, 4001 are not', async () => {
      const ok = await send(alice, roomId, { content: '😀'.repeat(4000) });
      assert.equal(ok.response.status, 201, JSON.stringify(ok.error));
      const stored = await alice.GET('/v1/rooms/{room_id}/messages/{message_id}', { params: { path: { room_id: roomId, message_id: ok.data!.data.id } } });
      assert.equal(stored.data!.data.content, '😀'.repeat(4000));
      assertValidation(await send(alice, roomId, { content: '😀'.repeat(4001) }), /content/);
      const zwj = '👩‍👩‍👧‍👦 Grüße — 你好 \u0000 tail';
      const odd = await send(alice, roomId, { content: zwj });
      assert.equal(odd.response.status, 201);
      const back = await alice.GET('/v1/rooms/{room_id}/messages/{message_id}', { params: { path: { room_id: roomId, message_id: odd.data!.data.id } } });
      assert.equal(back.data!.data.content, zwj);
    });

    test('text with an unpaired surrogate is 400: it cannot be stored as UTF-8 and would come back altered', async () => {
      const before = (await alice.GET('/v1/rooms/{room_id}', { params: { path: { room_id: roomId } } })).data!.data.last_seq;
      assertValidation(await send(alice, roomId, { content: 'a\ud800b' }), /content/);
      assertValidation(await send(alice, roomId, { content: 'ok', client_msg_id: 'k\udc00' }), /client_msg_id/);
      const after = (await alice.GET('/v1/rooms/{room_id}', { params: { path: { room_id: roomId } } })).data!.data.last_seq;
      assert.equal(after, before, 'nothing was stored');
      assertValidation(await t.client.POST('/v1/users', { body: { id: 'sur', username: 'x\udc00' } }), /username/);
      assertValidation(await t.client.POST('/v1/users', { body: { id: 'sur', username: 'sur', display_name: '\ud83d' } }), /display_name/);
      assertValidation(await alice.POST('/v1/rooms', { body: { type: 'group', name: 'r\ud800', members: [] } }), /name/);
      assertValidation(await s.master.POST('/v1/tenants', { body: { name: '\udfff' } }), /name/);
      // A well-formed pair is fine, and meta strings (stored as escaped JSON) round-trip either way.
      const res = await send(alice, roomId, { content: '\ud83d\ude00', meta: { note: 'x\ud800' } });
      assert.equal(res.response.status, 201, JSON.stringify(res.error));
      assert.deepEqual(res.data!.data.meta, { note: 'x\ud800' });
    });

    test('meta is limited to 8 KiB of JSON: exactly 8192 bytes pass, one more is a 400 naming meta', async () => {
      const meta = (n: number) => ({ a: 'y'.repeat(n) }); // JSON is n + 8 bytes
      const exact = await send(alice, roomId, { content: 'm', meta: meta(8184) });
      assert.equal(exact.response.status, 201, JSON.stringify(exact.error));
      assert.deepEqual(exact.data!.data.meta, meta(8184));
      assertValidation(await send(alice, roomId, { content: 'm', meta: meta(8185) }), /meta/);
      // Bytes, not characters: 2100 emoji are 8400 bytes of UTF-8.
      assertValidation(await send(alice, roomId, { content: 'm', meta: { a: '😀'.repeat(2100) } }), /meta/);
    });

    test('client_msg_id: 128 code points are allowed like the schema says; edge whitespace is refused on every backend', async () => {
      const long = await send(alice, roomId, { content: 'long key', client_msg_id: '😀'.repeat(128) });
      assert.equal(long.response.status, 201, JSON.stringify(long.error));
      const again = await send(alice, roomId, { content: 'long key', client_msg_id: '😀'.repeat(128) });
      assert.equal(again.response.status, 200);
      assert.equal(again.data!.data.id, long.data!.data.id);
      assertValidation(await send(alice, roomId, { content: 'x', client_msg_id: '😀'.repeat(129) }), /client_msg_id/);
      // MySQL compares VARCHARs ignoring trailing spaces, so "k" and "k " would be one key there and two on SQLite.
      assert.equal((await send(alice, roomId, { content: 'one', client_msg_id: 'k' })).response.status, 201);
      assertValidation(await send(alice, roomId, { content: 'two', client_msg_id: 'k ' }), /client_msg_id/);
      assertValidation(await send(alice, roomId, { content: 'two', client_msg_id: ' k' }), /client_msg_id/);
    });

    test('X-User-Id that breaks the pattern, is too long or names nobody is 401, not 500', async () => {
      for (const id of ['al ice', 'a'.repeat(129), 'nobody', 'a/b', '..']) {
        const res = await s.client(t.headers(id)).GET('/v1/me');
        assert.equal(res.response.status, 401, id);
        assert.equal(res.error!.error.code, 'AUTHENTICATION_ERROR');
      }
    });

    test('room creation: duplicate members and a DM with yourself are 400; naming yourself in a group is harmless', async () => {
      assertValidation(await alice.POST('/v1/rooms', { body: { type: 'group', members: ['bob', 'bob'] } }), /members/);
      assertValidation(await alice.POST('/v1/rooms', { body: { type: 'dm', members: ['alice'] } }), /members/);
      assertValidation(await alice.POST('/v1/rooms', { body: { type: 'dm', members: [] } }), /members/);
      const self = await alice.POST('/v1/rooms', { body: { type: 'group', members: ['alice', 'bob'] } });
      assert.equal(self.response.status, 201);
      assert.deepEqual(self.data!.data.members.map((m) => [m.user_id, m.role]).sort(), [['alice', 'owner'], ['bob', 'member']]);
    });

    test('ids with odd characters in paths are NOT_FOUND or 400, never 500', async () => {
      const paths = [
        `/v1/rooms/${encodeURIComponent('..')}`, `/v1/rooms/a%2Fb`, `/v1/rooms/a%00b`, `/v1/rooms/${'x'.repeat(65)}`,
        `/v1/rooms/${roomId}/messages/${encodeURIComponent('../..')}`, `/v1/users/${encodeURIComponent('a b')}`,
        `/v1/users/%F0%9F%98%80`, `/v1/rooms/${encodeURIComponent('😀')}/members`,
      ];
      for (const path of paths) {
        const res = await s.raw('GET', path, { headers: t.headers('alice') });
        assert.ok(res.status === 404 || res.status === 400, `${path} → ${res.status} ${JSON.stringify(res.body)}`);
      }
      const dots = await s.raw('GET', `/v1/tenants/${encodeURIComponent('..')}`, { headers: { 'X-Master-Key': s.masterKey } });
      assert.equal(dots.status, 404);
    });
  });
}

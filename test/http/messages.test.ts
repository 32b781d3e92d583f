/**
 * Messages over REST: per-room seq 1..N with no gaps (also under 20 concurrent senders),
 * idempotent sends (header or body key; same key + other body = 409), history windows,
 * edits and tombstones that keep seq gap-free, and the cross-room "everything after" feed.
 */
import { describe, before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import { backends } from '../helpers/backends.ts';
import { startTestServer, type TestServer, type TestTenant } from '../helpers/server.ts';
import type { ApiClient } from '../helpers/client.ts';

async function newRoom(owner: ApiClient, members: string[], name = 'room'): Promise<string> {
  const res = await owner.POST('/v1/rooms', { body: { type: 'group', name, members } });
  assert.equal(res.response.status, 201, JSON.stringify(res.error));
  return res.data!.data.id;
}

const send = (c: ApiClient, roomId: string, content: string, key?: string, meta?: Record<string, unknown>) =>
  c.POST('/v1/rooms/{room_id}/messages', {
    params: { path: { room_id: roomId }, header: key ? { 'Idempotency-Key': key } : {} },
    body: { content, ...(meta ? { meta } : {}) },
  });

for (const backend of backends()) {
  describe(`messages [${backend.name}]`, () => {
    let s: TestServer;
    let t: TestTenant;
    let alice: ApiClient;
    let bob: ApiClient;
    let carol: ApiClient;
    before(async () => {
      s = await startTestServer(backend, {}, { ws: false });
      t = await s.tenant();
      alice = await t.user('alice');
      bob = await t.user('bob');
      carol = await t.user('carol');
    });
    after(() => s.close());

    test('a send answers 201 with the stored message and the next seq', async () => {
      const roomId = await newRoom(alice, ['bob']);
      const first = await send(alice, roomId, 'hello', undefined, { kind: 'text' });
      assert.equal(first.response.status, 201);
      assert.equal(first.data!.data.seq, 1);
      assert.equal(first.data!.data.sender_id, 'alice');
      assert.deepEqual(first.data!.data.meta, { kind: 'text' });
      const second = await send(bob, roomId, 'hi');
      assert.equal(second.data!.data.seq, 2);
    });

    test('20 concurrent senders get seqs exactly 1..20', async () => {
      const ids = Array.from({ length: 20 }, (_, i) => `sender${i}`);
      const clients = await Promise.all(ids.map((id) => t.user(id)));
      const roomId = await newRoom(alice, ids, 'busy');
      const results = await Promise.all(clients.map((c, i) => send(c, roomId, `m${i}`)));
      for (const r of results) assert.equal(r.response.status, 201, JSON.stringify(r.error));
      const seqs = results.map((r) => r.data!.data.seq).sort((a, b) => a - b);
      assert.deepEqual(seqs, Array.from({ length: 20 }, (_, i) => i + 1));
      const list = await alice.GET('/v1/rooms/{room_id}/messages', { params: { path: { room_id: roomId }, query: { limit: 200 } } });
      assert.deepEqual(list.data!.data.items.map((m) => m.seq), Array.from({ length: 20 }, (_, i) => i + 1));
    });

    test('20 concurrent repeats of one Idempotency-Key store one message', async () => {
      const roomId = await newRoom(alice, ['bob']);
      const results = await Promise.all(Array.from({ length: 20 }, () => send(alice, roomId, 'once', 'key-1')));
      const statuses = results.map((r) => r.response.status).sort();
      assert.equal(statuses.filter((x) => x === 201).length, 1, `statuses: ${statuses}`);
      assert.equal(statuses.filter((x) => x === 200).length, 19);
      assert.equal(new Set(results.map((r) => r.data!.data.id)).size, 1);
      const list = await alice.GET('/v1/rooms/{room_id}/messages', { params: { path: { room_id: roomId } } });
      assert.equal(list.data!.data.items.length, 1);
      assert.equal(list.data!.data.items[0].client_msg_id, 'key-1');
    });

    test('client_msg_id in the body works like the header; a different body with the same key is 409', async () => {
      const roomId = await newRoom(alice, ['bob']);
      const body = (content: string) => alice.POST('/v1/rooms/{room_id}/messages', { params: { path: { room_id: roomId } }, body: { content, client_msg_id: 'k2' } });
      const a = await body('same');
      const b = await body('same');
      assert.equal(a.response.status, 201);
      assert.equal(b.response.status, 200);
      assert.equal(b.data!.data.id, a.data!.data.id);
      const c = await body('different');
      assert.equal(c.response.status, 409);
      assert.equal(c.error!.error.code, 'CONFLICT');
      const both = await alice.POST('/v1/rooms/{room_id}/messages', {
        params: { path: { room_id: roomId }, header: { 'Idempotency-Key': 'x1' } }, body: { content: 'a', client_msg_id: 'x2' },
      });
      assert.equal(both.response.status, 400);
      // The same key from another sender is another message.
      const other = await bob.POST('/v1/rooms/{room_id}/messages', { params: { path: { room_id: roomId } }, body: { content: 'same', client_msg_id: 'k2' } });
      assert.equal(other.response.status, 201);
      assert.notEqual(other.data!.data.id, a.data!.data.id);
    });

    test('history windows: after_seq, before_seq, newest, has_more', async () => {
      const roomId = await newRoom(alice, ['bob']);
      for (let i = 1; i <= 7; i++) await send(alice, roomId, `m${i}`);
      const q = (query: Record<string, number>) => alice.GET('/v1/rooms/{room_id}/messages', { params: { path: { room_id: roomId }, query } });
      const after = await q({ after_seq: 2, limit: 3 });
      assert.deepEqual(after.data!.data.items.map((m) => m.seq), [3, 4, 5]);
      assert.equal(after.data!.data.has_more, true);
      const before = await q({ before_seq: 4, limit: 10 });
      assert.deepEqual(before.data!.data.items.map((m) => m.seq), [1, 2, 3]);
      assert.equal(before.data!.data.has_more, false);
      const newest = await q({ limit: 2 });
      assert.deepEqual(newest.data!.data.items.map((m) => m.seq), [6, 7]);
      assert.equal(newest.data!.data.has_more, true);
      const tail = await q({ after_seq: 7 });
      assert.deepEqual(tail.data!.data.items, []);
      assert.equal(tail.data!.data.has_more, false);
    });

    test('edit sets edited_at; delete leaves a tombstone; seq stays gap-free', async () => {
      const roomId = await newRoom(alice, ['bob', 'carol']);
      const m1 = (await send(bob, roomId, 'typo')).data!.data;
      await send(bob, roomId, 'second');
      const edited = await bob.PATCH('/v1/rooms/{room_id}/messages/{message_id}', { params: { path: { room_id: roomId, message_id: m1.id } }, body: { content: 'fixed' } });
      assert.equal(edited.data!.data.content, 'fixed');
      assert.ok(edited.data!.data.edited_at);
      const forbidden = await carol.PATCH('/v1/rooms/{room_id}/messages/{message_id}', { params: { path: { room_id: roomId, message_id: m1.id } }, body: { content: 'hacked' } });
      assert.equal(forbidden.response.status, 403);
      const carolDelete = await carol.DELETE('/v1/rooms/{room_id}/messages/{message_id}', { params: { path: { room_id: roomId, message_id: m1.id } } });
      assert.equal(carolDelete.response.status, 403);
      // The room owner may delete another member's message.
      const removed = await alice.DELETE('/v1/rooms/{room_id}/messages/{message_id}', { params: { path: { room_id: roomId, message_id: m1.id } } });
      assert.equal(removed.response.status, 200);
      assert.ok(removed.data!.data.deleted_at);
      assert.equal(removed.data!.data.content, '');
      const list = await bob.GET('/v1/rooms/{room_id}/messages', { params: { path: { room_id: roomId } } });
      assert.deepEqual(list.data!.data.items.map((m) => [m.seq, m.deleted_at !== null]), [[1, true], [2, false]]);
      const third = await send(bob, roomId, 'third');
      assert.equal(third.data!.data.seq, 3);
    });

    test('non-members get NOT_FOUND for the room, its members and messages', async () => {
      const roomId = await newRoom(alice, ['bob']);
      const m = (await send(alice, roomId, 'secret')).data!.data;
      const checks = [
        await carol.GET('/v1/rooms/{room_id}', { params: { path: { room_id: roomId } } }),
        await carol.GET('/v1/rooms/{room_id}/members', { params: { path: { room_id: roomId } } }),
        await carol.GET('/v1/rooms/{room_id}/messages', { params: { path: { room_id: roomId } } }),
        await carol.GET('/v1/rooms/{room_id}/messages/{message_id}', { params: { path: { room_id: roomId, message_id: m.id } } }),
        await send(carol, roomId, 'let me in'),
      ];
      for (const r of checks) {
        assert.equal(r.response.status, 404);
        assert.equal(r.error!.error.code, 'NOT_FOUND');
      }
    });

    test('GET /v1/messages returns everything after a cursor across my rooms, in order', async () => {
      const dave = await t.user('dave');
      const r1 = await newRoom(dave, ['alice'], 'one');
      const r2 = await newRoom(dave, ['bob'], 'two');
      const start = await dave.GET('/v1/messages', { params: { query: { limit: 200 } } });
      let cursor = start.data!.data.next_cursor ?? undefined;
      assert.deepEqual(start.data!.data.items, []);
      await send(dave, r1, 'a');
      await send(bob, r2, 'b');
      await send(alice, r1, 'c');
      const page1 = await dave.GET('/v1/messages', { params: { query: { after: cursor, limit: 2 } } });
      assert.deepEqual(page1.data!.data.items.map((m) => m.content), ['a', 'b']);
      cursor = page1.data!.data.next_cursor!;
      const page2 = await dave.GET('/v1/messages', { params: { query: { after: cursor, limit: 2 } } });
      assert.deepEqual(page2.data!.data.items.map((m) => m.content), ['c']);
      // Carol is in neither room: her feed never shows them.
      const carolFeed = await carol.GET('/v1/messages', { params: { query: { limit: 200 } } });
      assert.ok(carolFeed.data!.data.items.every((m) => m.room_id !== r1 && m.room_id !== r2));
    });
  });
}

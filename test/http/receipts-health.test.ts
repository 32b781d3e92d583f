/**
 * Delivered and read cursors only move forward (out-of-order calls are harmless), read pulls
 * delivered along, and unread counts derive from them. Health and readiness report the
 * database and answer 503 when it is unusable.
 */
import { describe, before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import { backends } from '../helpers/backends.ts';
import { startTestServer, type TestServer, type TestTenant } from '../helpers/server.ts';
import type { ApiClient } from '../helpers/client.ts';

for (const backend of backends()) {
  describe(`receipts [${backend.name}]`, () => {
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
      roomId = (await alice.POST('/v1/rooms', { body: { type: 'group', name: 'r', members: ['bob'] } })).data!.data.id;
      for (const content of ['1', '2', '3', '4', '5']) {
        await alice.POST('/v1/rooms/{room_id}/messages', { params: { path: { room_id: roomId } }, body: { content } });
      }
    });
    after(() => s.close());

    test('acks move the delivered cursor forward only', async () => {
      const a3 = await bob.POST('/v1/acks', { body: { room_id: roomId, seq: 3 } });
      assert.deepEqual(a3.data!.data, { room_id: roomId, user_id: 'bob', delivered_seq: 3, read_seq: 0 });
      const a1 = await bob.POST('/v1/acks', { body: { room_id: roomId, seq: 1 } });
      assert.equal(a1.data!.data.delivered_seq, 3, 'an older ack is harmless');
      const beyond = await bob.POST('/v1/acks', { body: { room_id: roomId, seq: 99 } });
      assert.equal(beyond.response.status, 400);
    });

    test('read moves forward only, pulls delivered along, and drives unread_count', async () => {
      const r4 = await bob.POST('/v1/rooms/{room_id}/read', { params: { path: { room_id: roomId } }, body: { seq: 4 } });
      assert.equal(r4.data!.data.read_seq, 4);
      assert.equal(r4.data!.data.delivered_seq, 4);
      const r2 = await bob.POST('/v1/rooms/{room_id}/read', { params: { path: { room_id: roomId } }, body: { seq: 2 } });
      assert.equal(r2.data!.data.read_seq, 4);
      const rooms = await bob.GET('/v1/rooms', {});
      assert.equal(rooms.data!.data.items.find((r) => r.id === roomId)!.unread_count, 1);
      const members = await alice.GET('/v1/rooms/{room_id}/members', { params: { path: { room_id: roomId } } });
      const bobMember = members.data!.data.items.find((m) => m.user_id === 'bob')!;
      assert.equal(bobMember.read_seq, 4);
    });

    test('receipts for a room the caller is not in are NOT_FOUND', async () => {
      const carol = await t.user('carol');
      const ack = await carol.POST('/v1/acks', { body: { room_id: roomId, seq: 1 } });
      assert.equal(ack.response.status, 404);
      const read = await carol.POST('/v1/rooms/{room_id}/read', { params: { path: { room_id: roomId } }, body: { seq: 1 } });
      assert.equal(read.response.status, 404);
    });
  });

  describe(`health [${backend.name}]`, () => {
    test('health and ready report a writable database, then 503 once it is unusable', async () => {
      const s = await startTestServer(backend, {}, { ws: false });
      try {
        const health = await s.anonymous.GET('/health', {});
        assert.equal(health.response.status, 200);
        assert.equal(health.data!.data.status, 'ok');
        assert.equal(health.data!.data.checks.database.ok, true);
        const ready = await s.anonymous.GET('/ready', {});
        assert.equal(ready.response.status, 200);
        await s.running.parts.db.destroy();
        const down = await s.anonymous.GET('/health', {});
        assert.equal(down.response.status, 503);
        assert.equal(down.error!.error.code, 'SERVICE_UNAVAILABLE');
        assert.equal((down.error as any).data.checks.database.ok, false);
        const notReady = await s.anonymous.GET('/ready', {});
        assert.equal(notReady.response.status, 503);
      } finally {
        await s.close().catch(() => undefined);
      }
    });
  });
}

/**
 * GET /v1/rooms/{room_id}/presence: a snapshot that agrees with the WebSocket node — a member
 * with an open socket is online, others offline, and after the grace period the snapshot and
 * the `presence` frames agree again. Non-members get NOT_FOUND.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { backends } from '../helpers/backends.ts';
import { startTestServer } from '../helpers/server.ts';
import { WsClient } from '../helpers/ws-client.ts';

const [backend] = backends();

describe(`presence snapshot [${backend.name}]`, () => {
  test('REST presence matches open sockets, before and after a disconnect', async (t) => {
    const s = await startTestServer(backend, { presenceGraceMs: 0 }, { wsNode: { resumeWaitMs: 50 } });
    t.after(() => s.close());
    const tenant = await s.tenant();
    const alice = await tenant.user('alice');
    await tenant.user('bob');
    const carol = await tenant.user('carol');
    const roomId = (await alice.POST('/v1/rooms', { body: { type: 'group', name: 'p', members: ['bob'] } })).data!.data.id;
    const snapshot = async () => {
      const res = await alice.GET('/v1/rooms/{room_id}/presence', { params: { path: { room_id: roomId } } });
      assert.equal(res.response.status, 200);
      return Object.fromEntries(res.data!.data.items.map((e) => [e.user_id, e.status]));
    };
    assert.deepEqual(await snapshot(), { alice: 'offline', bob: 'offline' });

    const url = `ws://127.0.0.1:${s.running.wsPort}/v1/ws`;
    const aliceWs = await WsClient.connect(url, { headers: tenant.headers('alice'), label: 'alice' });
    await aliceWs.first('connected');
    const bobWs = await WsClient.connect(url, { headers: tenant.headers('bob'), label: 'bob' });
    await bobWs.first('connected');
    await aliceWs.first('presence', (f) => f.user_id === 'bob' && f.status === 'online');
    assert.deepEqual(await snapshot(), { alice: 'online', bob: 'online' });

    await bobWs.close();
    await aliceWs.first('presence', (f) => f.user_id === 'bob' && f.status === 'offline');
    assert.deepEqual(await snapshot(), { alice: 'online', bob: 'offline' });

    const outsider = await carol.GET('/v1/rooms/{room_id}/presence', { params: { path: { room_id: roomId } } });
    assert.equal(outsider.response.status, 404);
    await aliceWs.close();
  });
});

/**
 * /metrics carries the WebSocket node's figures (connections, closes by code, frames in by type,
 * deliveries, rate-limit refusals, replay volume) and the send path's batch sizes and commit
 * times, without tenant or user labels.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { backends } from '../helpers/backends.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { WsClient } from '../helpers/ws-client.ts';

const [backend] = backends();

/** A metric's value in a /metrics text (the first series whose labels contain `labels`). */
function metricValue(text: string, name: string, labels = ''): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(labels));
  assert.ok(line, `${name}{${labels}} is exported`);
  return Number(line.split(' ').pop());
}

describe(`ws metrics [${backend!.name}]`, () => {
  let s: TestServer;
  before(async () => { s = await startTestServer(backend!, { authCacheMs: 0 }); });
  after(() => s.close());

  test('connections, frames, deliveries, refusals, replays and send batches are counted', async () => {
    const t = await s.tenant();
    const alice = await t.user('alice');
    await t.user('bob');
    const roomId = (await alice.POST('/v1/rooms', { body: { type: 'group', name: 'm', members: ['bob'] } })).data!.data.id;
    await alice.POST('/v1/rooms/{room_id}/messages', { params: { path: { room_id: roomId } }, body: { content: 'before' } });
    const token = async (user: string) =>
      (await t.client.POST('/v1/users/{user_id}/tokens', { params: { path: { user_id: user } }, body: {} })).data!.data.token;
    const connect = async (user: string) => {
      const c = await WsClient.connect(s.wsUrl, { label: user, headers: { Authorization: `Bearer ${await token(user)}` } });
      await c.first('connected');
      return c;
    };
    const bob = await connect('bob');
    bob.send({ type: 'resume', rooms: [{ room_id: roomId, last_seq: 0 }] }); // replays 'before'
    await bob.first('sync.complete');
    // alice's connection gets a tiny limit (a connection takes its tenant's limits as it opens).
    const patched = await s.master.PATCH('/v1/tenants/{tenant_id}', { params: { path: { tenant_id: t.id } }, body: { settings: { rate_limit_per_second: 1, rate_limit_burst: 2 } } });
    assert.equal(patched.response.status, 200);
    const a = await connect('alice');
    a.send({ type: 'message.send', room_id: roomId, content: 'hi', client_msg_id: 'm1' });
    await a.first('message.ack');
    a.send({ type: 'nonsense' });
    await a.first('error');
    for (let i = 0; i < 5; i++) a.send({ type: 'typing.start', room_id: roomId });
    await a.first('error', (f) => f.code === 'RATE_LIMIT_EXCEEDED');
    await a.close();

    const text = await (await fetch(`${s.baseUrl}/metrics`)).text();
    const value = (name: string, labels = '') => metricValue(text, name, labels);
    assert.equal(value('chatapi_ws_connects_total'), 2);
    assert.equal(value('chatapi_ws_closes_total', 'code="'), 1);
    assert.equal(value('chatapi_ws_connections'), 1);
    assert.ok(value('chatapi_ws_frames_in_total', 'type="message.send"') >= 1);
    assert.equal(value('chatapi_ws_frames_in_total', 'type="invalid"'), 1);
    assert.equal(value('chatapi_ws_frames_in_total', 'type="resume"'), 1);
    assert.ok(value('chatapi_ws_deliveries_total') >= 4, 'acks, errors, message.created to both');
    assert.ok(value('chatapi_rate_limited_total', 'transport="ws"') >= 1);
    assert.equal(value('chatapi_ws_replayed_messages_total'), 2, "'before', to bob (resume) and to alice (from her delivered cursor)");
    assert.equal(value('chatapi_ws_slow_consumer_kicks_total'), 0);
    assert.ok(value('chatapi_send_batch_size_count') >= 2);
    assert.ok(value('chatapi_send_commit_seconds_count') >= 2);
    assert.equal(value('chatapi_send_queue_depth'), 0, 'every send answered: none queued');
    assert.equal(value('chatapi_send_batches_overlapped_total'), 0, 'a few sends never fill a batch behind one that syncs');
    if (backend!.name === 'sqlite') {
      assert.ok(value('chatapi_sqlite_wal_pages') >= 0, "SQLite's WAL as the checkpoint worker last saw it");
      assert.equal(value('chatapi_sqlite_wal_restarts_total'), 0, 'a few sends never make the WAL wait for a restart');
    }
    assert.ok(!text.includes(t.id) && !text.includes('alice'), 'no tenant or user labels');
    await bob.close();
  });

  test("the main thread's busy time: a blocked event loop counts as active, whatever the machine's load", async () => {
    const active = async () => metricValue(await (await fetch(`${s.baseUrl}/metrics`)).text(), 'chatapi_event_loop_active_seconds_total');
    const start = performance.now();
    const before = await active();
    const t0 = performance.now();
    while (performance.now() - t0 < 300) { /* the node's thread (this test's) busy for 300 ms of wall time */ }
    const after = await active();
    const wall = (performance.now() - start) / 1000; // both scrapes inside it
    assert.ok(after - before >= 0.3, `300 ms of blocked loop counted (${after - before} s)`);
    assert.ok(after - before <= wall + 0.001, `never more than the wall time around both scrapes (${after - before} s of ${wall} s)`);
  });
});

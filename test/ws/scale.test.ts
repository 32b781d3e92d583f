/**
 * Scale-out over the CI's Redis: one API node and two WebSocket nodes, each with its own domain
 * and bus (as separate processes would have), sharing the database and a Redis key prefix unique
 * to this run. Messages cross nodes both ways, presence agrees on both, tickets redeem anywhere,
 * and a node that dies without cleaning up stops holding its users online after its TTL.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test, type TestContext } from 'node:test';
import { Redis } from 'ioredis';
import type { Config } from '../../src/config.ts';
import { start } from '../../src/server.ts';
import { startWsNode, type WsNode } from '../../src/ws/node.ts';
import { createTicketStore, type TicketStore } from '../../src/ws/tickets.ts';
import { backends, type Backend } from '../helpers/backends.ts';
import { startTestServer, type TestServer, type TestTenant } from '../helpers/server.ts';
import { WsClient } from '../helpers/ws-client.ts';
import { wsLog } from './harness.ts';

const REDIS_URL = process.env.REDIS_TEST_URL ?? 'redis://127.0.0.1:6379';

interface Cluster {
  api: TestServer;
  tenant: TestTenant;
  /** The API node's ticket store (what POST /v1/realtime/tickets issues from). */
  tickets: TicketStore;
  nodes: { node: WsNode; url: string }[];
  token(userId: string): Promise<string>;
  connect(userId: string, node: number, roomId?: string): Promise<WsClient>;
}

async function startCluster(t: TestContext, backend: Backend, overrides: Partial<Config> = {}): Promise<Cluster> {
  const prefix = `chatapi-test-${randomBytes(6).toString('hex')}:`;
  const api = await startTestServer(backend, { redisUrl: REDIS_URL, redisPrefix: prefix, ...overrides }, { ws: false });
  const clients: WsClient[] = [];
  const closers: (() => Promise<unknown>)[] = [];
  t.after(async () => {
    await Promise.allSettled(clients.map((c) => c.close()));
    for (const close of closers.reverse()) await close().catch(() => {});
    await api.close();
    await deleteKeys(prefix);
  });
  const tickets = await createTicketStore({ redisUrl: REDIS_URL, prefix });
  closers.push(() => tickets.close());
  const nodes: Cluster['nodes'] = [];
  for (let i = 0; i < 2; i++) {
    // A WebSocket-only process: its own database pool, Redis bus, tickets and presence registry.
    const proc = await start(api.config, { http: false, ws: false, log: wsLog() });
    closers.push(() => proc.close());
    const nodeTickets = await createTicketStore({ redisUrl: REDIS_URL, prefix });
    closers.push(() => nodeTickets.close());
    const node = await startWsNode({
      config: api.config, domain: proc.domain, bus: proc.parts.bus, log: wsLog(), tickets: nodeTickets,
      resumeWaitMs: 100, presenceHeartbeatMs: 100, presenceTtlMs: 500,
    });
    closers.push(() => node.close());
    nodes.push({ node, url: `ws://127.0.0.1:${node.port}/v1/ws` });
  }
  const tenant = await api.tenant();
  const cluster: Cluster = {
    api, tenant, tickets, nodes,
    async token(userId) {
      const res = await tenant.client.POST('/v1/users/{user_id}/tokens', { params: { path: { user_id: userId } }, body: {} });
      return res.data!.data.token;
    },
    async connect(userId, node, roomId) {
      const c = await WsClient.connect(nodes[node]!.url, { label: `${userId}@${node}`, headers: { Authorization: `Bearer ${await cluster.token(userId)}` } });
      clients.push(c);
      if (roomId) c.send({ type: 'resume', rooms: [{ room_id: roomId, last_seq: 0 }] });
      await c.first('connected');
      if (roomId) await c.first('sync.complete');
      return c;
    },
  };
  return cluster;
}

async function deleteKeys(prefix: string): Promise<void> {
  const redis = new Redis(REDIS_URL);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      if (keys.length) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

for (const backend of backends()) {
  describe(`ws scale-out over Redis (${backend.name})`, () => {
    test('messages cross nodes both ways and from the API node', async (t) => {
      const c = await startCluster(t, backend);
      const tenant = c.tenant;
      const alice = await tenant.user('alice');
      await tenant.user('bob');
      const room = await alice.POST('/v1/rooms', { body: { type: 'group', name: 'x', members: ['bob'] } });
      const roomId = room.data!.data.id;
      const a = await c.connect('alice', 0, roomId);
      const b = await c.connect('bob', 1, roomId);

      await alice.POST('/v1/rooms/{room_id}/messages', { params: { path: { room_id: roomId } }, body: { content: 'from api' } });
      a.send({ type: 'message.send', room_id: roomId, content: 'from node 0', client_msg_id: 'a1' });
      b.send({ type: 'message.send', room_id: roomId, content: 'from node 1', client_msg_id: 'b1' });
      for (const client of [a, b]) {
        await client.waitUntil(() => client.all('message.created').length === 3);
        assert.deepEqual(client.all('message.created').map((f) => f.message.seq), [1, 2, 3]);
      }
      assert.deepEqual(new Set(b.all('message.created').map((f) => f.message.content)), new Set(['from api', 'from node 0', 'from node 1']));
    });

    test('presence agrees on both nodes; a ticket from the API node works on either', async (t) => {
      const c = await startCluster(t, backend, { presenceGraceMs: 200 });
      const tenant = c.tenant;
      const alice = await tenant.user('alice');
      await tenant.user('bob');
      await tenant.user('carol');
      const roomId = (await alice.POST('/v1/rooms', { body: { type: 'group', name: 'x', members: ['bob', 'carol'] } })).data!.data.id;
      const a = await c.connect('alice', 0, roomId);
      const b = await c.connect('bob', 1, roomId);

      const carolUser = (await c.api.running.domain.users.resolve(tenant.id, 'carol'))!;
      const issued = await c.tickets.issue({ kind: 'user', tenantId: tenant.id, user: carolUser, via: 'token' });
      const carol = await WsClient.connect(`${c.nodes[1]!.url}?ticket=${issued.ticket}`, { label: 'carol@1' });
      await carol.first('connected');
      for (const client of [a, b]) await client.first('presence', (f) => f.user_id === 'carol' && f.status === 'online');

      // carol moves from node 1 to node 0 within the grace period: nobody sees her go offline
      await carol.close();
      const moved = await c.connect('carol', 0);
      const probe = await c.connect('bob', 1);
      await probe.close();
      await moved.close();
      for (const client of [a, b]) {
        await client.first('presence', (f) => f.user_id === 'carol' && f.status === 'offline');
        assert.deepEqual(client.all('presence').filter((f) => f.user_id === 'carol').map((f) => f.status), ['online', 'offline']);
      }
    });

    test('a node that dies without cleaning up stops holding its users online after its TTL', async (t) => {
      const c = await startCluster(t, backend, { presenceGraceMs: 100 });
      const tenant = c.tenant;
      const alice = await tenant.user('alice');
      await tenant.user('bob');
      const roomId = (await alice.POST('/v1/rooms', { body: { type: 'group', name: 'x', members: ['bob'] } })).data!.data.id;
      const a = await c.connect('alice', 0, roomId);
      await c.connect('bob', 1);
      await a.first('presence', (f) => f.user_id === 'bob' && f.status === 'online');
      await c.nodes[1]!.node.close(); // stops heartbeating; leaves its registry entries behind, like a crash
      const offline = await a.first('presence', (f) => f.user_id === 'bob' && f.status === 'offline', 10_000);
      assert.equal(offline.room_id, roomId);
    });
  });
}

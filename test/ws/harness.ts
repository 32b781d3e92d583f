/**
 * A running chatapi for WebSocket tests: REST + domain from the lead's test server, plus a
 * WebSocket node on port 0 over the same domain and bus, and the few steps most tests need
 * (a tenant, users, a room, tokens, connected clients).
 */
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import mysql from 'mysql2/promise';
import type { Config } from '../../src/config.ts';
import { createLogger } from '../../src/log.ts';
import { startWsNode, type WsNode, type WsNodeOptions } from '../../src/ws/node.ts';
import { createTicketStore, type TicketStore } from '../../src/ws/tickets.ts';
import type { Backend } from '../helpers/backends.ts';
import type { ApiClient } from '../helpers/client.ts';
import { startTestServer, type TestServer, type TestTenant } from '../helpers/server.ts';
import { until } from '../helpers/until.ts';
import { WsClient, type ConnectOptions } from '../helpers/ws-client.ts';

export interface WsWorld {
  server: TestServer;
  node: WsNode;
  wsUrl: string;
  tickets: TicketStore;
  tenant: TestTenant;
  /** Starts another WebSocket node on the same domain and bus (e.g. after stopping the first). */
  startNode(extra?: Partial<WsNodeOptions>): Promise<{ node: WsNode; wsUrl: string }>;
  /** Creates users (as the tenant) and returns REST clients acting as each. */
  users(...ids: string[]): Promise<ApiClient[]>;
  room(owner: ApiClient, members: string[], name?: string): Promise<string>;
  token(userId: string): Promise<string>;
  /** Connects as the user with a Bearer token and waits for `connected`. */
  connect(userId: string, opts?: ConnectOptions & { url?: string; resume?: { room_id: string; last_seq: number }[] }): Promise<WsClient>;
}

export const wsLog = () => createLogger(process.env.TEST_LOG_LEVEL ?? 'silent');

export async function startWorld(
  t: TestContext, backend: Backend, overrides: Partial<Config> = {}, nodeOpts: Partial<WsNodeOptions> = {},
): Promise<WsWorld> {
  const server = await startTestServer(backend, overrides, { ws: false });
  const tickets = await createTicketStore({ redisUrl: server.config.redisUrl, prefix: server.config.redisPrefix });
  const nodes: WsNode[] = [];
  const clients: WsClient[] = [];
  t.after(async () => {
    await Promise.allSettled(clients.map((c) => c.close()));
    for (const n of nodes) await n.close();
    await tickets.close();
    await server.close();
  });
  const startNode = async (extra: Partial<WsNodeOptions> = {}) => {
    const node = await startWsNode({
      config: server.config, domain: server.running.domain, bus: server.running.parts.bus, log: wsLog(), tickets,
      resumeWaitMs: 200, ...nodeOpts, ...extra,
    });
    nodes.push(node);
    return { node, wsUrl: `ws://127.0.0.1:${node.port}/v1/ws` };
  };
  const first = await startNode();
  const tenant = await server.tenant();
  const world: WsWorld = {
    server, tickets, tenant, startNode, ...first,
    users: (...ids) => Promise.all(ids.map((id) => tenant.user(id))),
    async room(owner, members, name = 'room') {
      const res = await owner.POST('/v1/rooms', { body: { type: 'group', name, members } });
      assert.equal(res.response.status, 201, JSON.stringify(res.error));
      return res.data!.data.id;
    },
    async token(userId) {
      const res = await tenant.client.POST('/v1/users/{user_id}/tokens', { params: { path: { user_id: userId } }, body: {} });
      assert.equal(res.response.status, 201, JSON.stringify(res.error));
      return res.data!.data.token;
    },
    async connect(userId, opts = {}) {
      const headers = { Authorization: `Bearer ${await world.token(userId)}`, ...opts.headers };
      const client = await WsClient.connect(opts.url ?? world.wsUrl, { label: userId, ...opts, headers });
      clients.push(client);
      if (opts.resume) client.send({ type: 'resume', rooms: opts.resume });
      await client.first('connected');
      return client;
    },
  };
  return world;
}

/** Registers a client opened by a test so the world closes it. */
export function track(t: TestContext, client: WsClient): WsClient {
  t.after(() => client.close());
  return client;
}

/** chatapi_send_queue_depth as the node's /metrics reads it now. */
export async function queueDepth(w: WsWorld): Promise<number> {
  const text = await (await fetch(`${w.server.baseUrl}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('chatapi_send_queue_depth{'));
  assert.ok(line, 'chatapi_send_queue_depth is exported');
  return Number(line.split(' ').pop());
}

/**
 * MariaDB: runs `body` while another session holds room `roomId`'s row (`SELECT … FOR UPDATE`), so
 * a send batch that touches the room waits for it; `blocked()` resolves once one does (seen in
 * information_schema.processlist). The lock is released in the end, before the world's cleanup,
 * which waits for the held batch.
 */
export async function whileRoomHeld(w: WsWorld, roomId: string, body: (blocked: () => Promise<void>) => Promise<void>): Promise<void> {
  const holder = await mysql.createConnection(w.server.config.databaseUrl);
  const blocked = () => until('a send batch to wait for the row lock', async () => {
    const [rows] = await holder.query(
      "SELECT COUNT(*) AS n FROM information_schema.processlist WHERE db = DATABASE() AND id <> CONNECTION_ID() AND command = 'Query' AND info LIKE '%FROM rooms%'",
    );
    return Number((rows as { n: number }[])[0]!.n) > 0;
  });
  try {
    await holder.query('BEGIN');
    await holder.query('SELECT id FROM rooms WHERE id = ? FOR UPDATE', [roomId]);
    await body(blocked);
  } finally {
    await holder.query('COMMIT');
    await holder.end();
  }
}

/**
 * Benchmark subject `chatapi`: one real chatapi node (REST + WebSocket node, SQLite) in its own
 * process. Rooms are real rooms of real users created through the REST API; clients connect
 * with `Authorization: Bearer <user token>`, resume, and send `message.send` frames that go
 * through the same domain send path as REST (seq, commit, bus, topic publish).
 * Frames follow spec/asyncapi.yaml.
 */
import { randomUUID } from 'node:crypto';
import { ChatApiSetup, type TenantHandle, mapLimit } from '../lib/api.ts';
import { HttpClient } from '../lib/http.ts';
import { startChatapi } from '../lib/processes.ts';
import type { FanoutTarget } from './fanout.ts';
import type { Subject } from './subjects.ts';

interface Layout { rooms: string[]; tokens: string[] }

// set-up calls are not measured; on a busy machine adding the 9,000th member of a room can take
// longer than the client's default 10 s
const SETUP_HTTP = { maxSockets: 32, timeoutMs: 120_000 };

export async function startChatapiSubject(opts: { ws?: boolean } = {}): Promise<Subject & { http: HttpClient; tenant: TenantHandle; setup: ChatApiSetup }> {
  const args = opts.ws === false ? ['--http-only'] : [];
  let cluster = await startChatapi({ nodes: 1, args });
  if (opts.ws !== false && !cluster.nodes[0].wsPort) {
    await cluster.stop();
    throw new Error('chatapi started without its WebSocket node (wsPort 0)');
  }
  let http = new HttpClient(`http://127.0.0.1:${cluster.nodes[0].httpPort}`, SETUP_HTTP);
  const setup = new ChatApiSetup(http, cluster.masterKey);
  // the bench tenant's limit is far above what the bench offers: it measures fan-out, not 429s
  const tenant = await setup.tenant('bench', { rate_limit_per_second: 100_000, rate_limit_burst: 100_000 });
  const layouts = new Map<string, Layout>();

  async function createLayout(rooms: number, size: number): Promise<Layout> {
    const prefix = `b${rooms}x${size}-`;
    const users = await mapLimit(Array.from({ length: rooms * size }, (_, i) => `${prefix}${i}`), 16,
      (id) => setup.user(tenant, id));
    const tokens = await mapLimit(users, 16, (id) => setup.token(tenant, id, 86_400));
    const roomIds = await mapLimit(Array.from({ length: rooms }, (_, r) => r), 8, (r) =>
      setup.room(tenant, users[r * size], users.slice(r * size + 1, (r + 1) * size), `bench ${r}`));
    return { rooms: roomIds, tokens };
  }

  const subject = {
    name: 'chatapi' as const,
    server: cluster.nodes[0],
    http,
    tenant,
    setup,
    async layout(rooms: number, size: number): Promise<FanoutTarget> {
      const node = subject.server;
      const key = `${rooms}x${size}`;
      let layout = layouts.get(key);
      if (!layout) layouts.set(key, (layout = await createLayout(rooms, size)));
      const { rooms: roomIds, tokens } = layout;
      const nonce = randomUUID().slice(0, 8); // client_msg_ids stay unique across runs
      return {
        name: 'chatapi', pid: node.pid, port: node.wsPort, markerOnly: true,
        deliveryTag: '"message.created"',
        errorTag: '"type":"error"',
        member: (room, index) => ({ path: '/v1/ws', headers: { Authorization: `Bearer ${tokens[room * size + index]}` } }),
        sendFrame: (room, text, key) =>
          `{"type":"message.send","room_id":"${roomIds[room]}","content":"${text}","client_msg_id":"${nonce}-${key}"}`,
        isReady(frame, send) {
          if (frame.includes('"type":"connected"')) {
            const positions = (JSON.parse(frame).rooms as { room_id: string; last_seq: number }[])
              .map((p) => ({ room_id: p.room_id, last_seq: p.last_seq }));
            send(JSON.stringify({ type: 'resume', rooms: positions }));
            return false;
          }
          if (frame.includes('"type":"error"')) throw new Error(`chatapi refused the connection: ${frame}`);
          return frame.includes('"type":"sync.complete"');
        },
      } satisfies FanoutTarget;
    },
    async restart() {
      http.close();
      await cluster.stop({ keepDatabase: true });
      cluster = await startChatapi({ nodes: 1, args, reuse: cluster });
      subject.server = cluster.nodes[0];
      http = new HttpClient(`http://127.0.0.1:${subject.server.httpPort}`, SETUP_HTTP);
      subject.http = http;
      setup.http = http;
    },
    async stop() {
      http.close();
      await cluster.stop();
    },
  };
  return subject;
}

/**
 * WebSocket abuse against a real `chatapi serve` process (so its memory can be read from /proc):
 * malformed, binary, unknown and oversized frames; a flood from one socket; unauthenticated
 * sockets left open; a reader that stops. Each is answered as spec/asyncapi.yaml documents
 * (`error` frames, 1009, 4001, 4008, RATE_LIMIT_EXCEEDED beyond WS_MAX_PENDING_FRAMES), and the
 * node's resident memory stays within a bound while it happens.
 */
import { describe, before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { CloseCode } from '../../src/ws/close-codes.ts';
import { backends } from '../helpers/backends.ts';
import { apiClient, type ApiClient } from '../helpers/client.ts';
import { rssOf, rssPeak, serveChild, type ChildNode } from '../helpers/child-node.ts';
import { WsClient } from '../helpers/ws-client.ts';

const AUTH_TIMEOUT_MS = 300;
const MAX_PENDING = 64;
const BACKPRESSURE = 256 * 1024;
const MAX_PAYLOAD = 65536;
/** How much the node's RSS may grow during one abuse (it would grow by hundreds of MB unbounded). */
const RSS_BOUND = 96 * 1024 * 1024;
const MB = (n: number) => `${(n / 2 ** 20).toFixed(1)} MB`;

for (const backend of backends()) {
  describe(`websocket abuse [${backend.name}]`, () => {
    let node: ChildNode;
    let drop: () => Promise<void>;
    let alice: Record<string, string>;
    let roomId: string;
    let as: (user: string) => ApiClient;
    const open: WsClient[] = [];
    const connect = async (headers = alice, label = 'alice') => {
      const c = await WsClient.connect(node.ws, { headers, label });
      open.push(c);
      return c;
    };
    const connections = async () => ((await (await fetch(node.ws.replace('ws://', 'http://').replace('/v1/ws', '/health'))).json()) as { data: { connections: number } }).data.connections;

    before(async () => {
      const db = await backend.url();
      drop = db.drop;
      const masterKey = 'mk_' + randomBytes(16).toString('hex');
      node = await serveChild({
        DATABASE_URL: db.url, MASTER_KEY: masterKey, WS_AUTH_TIMEOUT_MS: String(AUTH_TIMEOUT_MS),
        WS_MAX_PENDING_FRAMES: String(MAX_PENDING), WS_MAX_BACKPRESSURE_BYTES: String(BACKPRESSURE), WS_MAX_PAYLOAD_BYTES: String(MAX_PAYLOAD),
      });
      const tenant = (await apiClient(node.http, { 'X-Master-Key': masterKey }).POST('/v1/tenants', { body: { name: 'abuse' } })).data!.data;
      const key = tenant.api_key;
      for (const id of ['alice', 'bob']) await apiClient(node.http, { 'X-API-Key': key }).POST('/v1/users', { body: { id, username: id } });
      as = (user) => apiClient(node.http, { 'X-API-Key': key, 'X-User-Id': user });
      alice = { 'X-API-Key': key, 'X-User-Id': 'alice' };
      roomId = (await as('alice').POST('/v1/rooms', { body: { type: 'group', name: 'abuse', members: ['bob'] } })).data!.data.id;
    });
    after(async () => {
      await Promise.allSettled(open.map((c) => c.close()));
      await node.stop();
      await drop();
    });

    test('malformed, binary and unknown frames each get one error frame and the socket stays open', async () => {
      const c = await connect();
      await c.first('connected');
      const bad: [string, string | Buffer, boolean][] = [
        ['truncated JSON', '{"type":"ping"', false], ['null', 'null', false], ['array', '[]', false], ['string', '"ping"', false],
        ['number', '42', false], ['type not a string', '{"type":5}', false], ['unknown type', '{"type":"nope","ref":"r"}', false],
        ['prototype pollution', '{"type":"ping","__proto__":{"x":1}}', false], ['missing fields', '{"type":"message.send"}', false],
        ['invalid client_msg_id', JSON.stringify({ type: 'message.send', room_id: roomId, content: 'x', client_msg_id: ' padded ' }), false],
        ['empty', '', false], ['NUL bytes', '\u0000\u0000', false], ['5000-deep array', '['.repeat(5000) + ']'.repeat(5000), false],
        ['60 KB of garbage', 'x'.repeat(60_000), false], ['binary garbage', randomBytes(512), true], ['binary JSON', Buffer.from('{"type":"ping"}'), true],
      ];
      for (const [, payload, binary] of bad) c.sendRaw(payload, binary);
      c.send({ type: 'ping', ref: 'after-abuse' });
      const pong = await c.first('pong', (f) => f.ref === 'after-abuse');
      const errors = c.frames.slice(0, c.frames.indexOf(pong)).filter((f) => f.type === 'error');
      assert.equal(errors.length, bad.length, `one error frame per bad frame: ${JSON.stringify(errors.map((e) => e.message))}`);
      for (const e of errors) assert.equal(e.code, 'VALIDATION_ERROR');
      c.assertValid();
      console.log(`ws abuse [${backend.name}]: ${bad.length} malformed/binary/unknown frames, ${errors.length} error frames, socket still open`);
    });

    test('a frame just over WS_MAX_PAYLOAD_BYTES, and one of 300 KB, close with 1009', async () => {
      for (const size of [MAX_PAYLOAD + 1, 300 * 1024]) {
        const c = await connect();
        await c.first('connected');
        c.sendRaw(JSON.stringify({ type: 'ping', ref: 'x'.repeat(size) }));
        assert.equal((await c.closed).code, CloseCode.TOO_BIG, `${size} bytes`);
      }
    });

    test('unauthenticated sockets are closed with 4001 after WS_AUTH_TIMEOUT_MS, silent or chatty', async () => {
      const before = await connections();
      const sockets = await Promise.all(Array.from({ length: 30 }, (_, i) => WsClient.connect(node.ws, { label: `anon${i}` })));
      open.push(...sockets);
      sockets.forEach((s, i) => {
        if (i % 3 === 1) s.send({ type: 'ping', ref: 'p' });
        if (i % 3 === 2) s.sendRaw('{"type":"auth"'); // a broken auth frame is not an auth frame
      });
      const codes = await Promise.all(sockets.map(async (s) => (await s.closed).code));
      assert.deepEqual([...new Set(codes)], [CloseCode.AUTH_TIMEOUT]);
      for (const s of sockets) assert.ok(!s.frames.some((f) => f.type === 'connected'));
      // The node let go of them (its /health counts open connections).
      const deadline = Date.now() + 5000;
      while ((await connections()) > before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      assert.equal(await connections(), before);
    });

    test('a flood from one socket: every send answered once (ack or RATE_LIMIT_EXCEEDED), seqs gap-free, memory bounded', { timeout: 180_000 }, async () => {
      const c = await connect();
      await c.first('connected');
      const total = 10_000;
      const pad = 'p'.repeat(1000);
      const base = rssOf(node.pid);
      const peak = rssPeak(node.pid);
      for (let i = 0; i < total; i++) {
        c.send({ type: 'message.send', room_id: roomId, content: `f${i}`, meta: { pad }, client_msg_id: `flood-${i}` });
        if (i % 500 === 499) await new Promise((r) => setImmediate(r)); // let the client read replies
      }
      const answered = () => c.frames.filter((f) => f.type === 'message.ack' || (f.type === 'error' && f.client_msg_id?.startsWith('flood-'))).length;
      await c.waitUntil(() => answered() >= total, 150_000);
      const grown = peak.stop() - base;
      const acks = c.all('message.ack');
      const refused = c.all('error').filter((e) => e.client_msg_id?.startsWith('flood-'));
      const ids = [...acks.map((a) => a.client_msg_id), ...refused.map((e) => e.client_msg_id)];
      assert.equal(new Set(ids).size, total, 'each client_msg_id answered exactly once');
      for (const e of refused) assert.equal(e.code, 'RATE_LIMIT_EXCEEDED');
      const seqs = acks.map((a) => a.message.seq).sort((x, y) => x - y);
      assert.deepEqual(seqs, Array.from({ length: seqs.length }, (_, i) => i + 1), 'acknowledged seqs are 1..n');
      assert.ok(acks.length >= MAX_PENDING, `at least the pending window was handled (${acks.length})`);
      assert.ok(grown < RSS_BOUND, `node RSS grew by ${MB(grown)} during the flood (bound ${MB(RSS_BOUND)})`);
      c.send({ type: 'ping', ref: 'after-flood' });
      await c.first('pong', (f) => f.ref === 'after-flood');
      console.log(`ws abuse [${backend.name}]: flood of ${total} sends: ${acks.length} acked, ${refused.length} refused with RATE_LIMIT_EXCEEDED; node RSS +${MB(grown)}`);
    });

    test('a reader that stops is closed with 4008 and the node lets go of what it held', { timeout: 120_000 }, async () => {
      const reader = await connect({ ...alice, 'X-User-Id': 'bob' }, 'bob');
      await reader.first('connected');
      reader.send({ type: 'resume', rooms: [{ room_id: roomId, last_seq: 1_000_000 }] });
      await reader.first('sync.complete');
      const senders = await Promise.all(Array.from({ length: 5 }, () => connect()));
      await Promise.all(senders.map((c) => c.first('connected')));
      reader.pause();
      const base = rssOf(node.pid);
      const peak = rssPeak(node.pid);
      const meta = { pad: 'b'.repeat(7900) };
      let sent = 0;
      // Send until the node gives up on the reader (its /health count drops); ~12 KB each to the reader.
      const withReader = await connections();
      for (let round = 0; round < 200 && (await connections()) === withReader; round++) {
        await Promise.all(senders.map(async (sender, k) => {
          const ids = Array.from({ length: 5 }, (_, i) => `slow-${round}-${k}-${i}`);
          for (const id of ids) sender.send({ type: 'message.send', room_id: roomId, content: 'x'.repeat(4000), meta, client_msg_id: id });
          await sender.waitUntil(() => ids.every((id) => sender.all('message.ack').some((a) => a.client_msg_id === id)), 30_000);
        }));
        sent += 25;
      }
      const grown = peak.stop() - base;
      reader.resume(); // read what was buffered, then the close
      const closed = await reader.closed;
      assert.equal(closed.code, CloseCode.SLOW_CONSUMER);
      assert.ok(grown < RSS_BOUND, `node RSS grew by ${MB(grown)} (bound ${MB(RSS_BOUND)})`);
      console.log(`ws abuse [${backend.name}]: stopped reader closed 4008 after ${sent} sends (${MB(sent * 12_000)} addressed to it); node RSS +${MB(grown)}`);
    });
  });
}

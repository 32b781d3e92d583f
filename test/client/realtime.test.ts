// The realtime client (src/client/) against the real WebSocket node: token and ticket auth, an
// idempotent send that is resent after a lost frame and stored once, and resume after a dropped
// connection with every missed message delivered once, in order. Every frame the client receives
// is checked against ServerFrame (spec/asyncapi.yaml).
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, test, type TestContext } from 'node:test';
import WebSocket from 'ws';
import { RealtimeClient, type Message, type SocketFactory, type SocketLike } from '../../src/client/realtime.ts';
import { backends } from '../helpers/backends.ts';
import { until } from '../helpers/until.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const { ServerFrame: validate } = createRequire(import.meta.url)('../../generated/validators.cjs') as typeof import('../../generated/validators.cjs');

/** `ws` sockets that validate every received frame; `drop` lets a test lose outgoing frames. */
function sockets(opts: { drop?: (frame: { type: string }) => boolean } = {}) {
  const opened: WebSocket[] = [];
  const invalid: string[] = [];
  const factory: SocketFactory = (url) => {
    const ws = new WebSocket(url);
    opened.push(ws);
    const socket = ws as unknown as SocketLike;
    const send = ws.send.bind(ws);
    socket.send = (data: string) => void (opts.drop?.(JSON.parse(data)) || send(data));
    ws.on('message', (data) => {
      const frame = JSON.parse(String(data));
      if (!validate(frame)) invalid.push(`${frame.type}: ${JSON.stringify(validate.errors)}`);
    });
    return socket;
  };
  return { factory, opened, invalid };
}

async function world(t: TestContext, backend: ReturnType<typeof backends>[number]) {
  const server: TestServer = await startTestServer(backend);
  t.after(() => server.close());
  const tenant = await server.tenant();
  const alice = await tenant.user('alice');
  const bob = await tenant.user('bob');
  const room = await alice.POST('/v1/rooms', { body: { type: 'group', name: 'r', members: ['bob'] } });
  const token = (await tenant.client.POST('/v1/users/{user_id}/tokens', { params: { path: { user_id: 'alice' } }, body: {} })).data!.data.token;
  const ticket = async () => (await bob.POST('/v1/realtime/tickets', {})).data!.data.ticket;
  return { server, roomId: room.data!.data.id, token, ticket };
}

function client(t: TestContext, url: string, auth: ConstructorParameters<typeof RealtimeClient>[0]['auth'], factory: SocketFactory, extra = {}) {
  const rt = new RealtimeClient({ url, auth, socket: factory, minBackoffMs: 50, maxBackoffMs: 200, pingIntervalMs: 0, ...extra });
  t.after(() => rt.close());
  rt.connect();
  return rt;
}

for (const backend of backends()) {
  describe(`realtime client (${backend.name})`, () => {
    test('a send whose frame was lost is resent with the same client_msg_id and stored once', async (t) => {
      const w = await world(t, backend);
      let dropped = 0;
      const s = sockets({ drop: (f) => f.type === 'message.send' && dropped++ === 0 });
      const alice = client(t, w.server.wsUrl, { token: w.token }, s.factory, { ackTimeoutMs: 300 });
      await until('connected', () => alice.state === 'open');
      const [one, again] = await Promise.all([alice.send(w.roomId, 'hi', { clientMsgId: 'k1' }), alice.send(w.roomId, 'hi', { clientMsgId: 'k1' })]);
      assert.equal(dropped, 2, 'the first frame was lost, the second (the resend) went out');
      assert.equal(one.id, again.id);
      const list = await w.server.client({ Authorization: `Bearer ${w.token}` }).GET('/v1/rooms/{room_id}/messages', { params: { path: { room_id: w.roomId } } });
      assert.deepEqual(list.data!.data.items.map((m) => m.content), ['hi']);
      assert.deepEqual(s.invalid, []);
    });

    test('after a dropped connection the client reconnects with a fresh ticket and gets every missed message once, in order', async (t) => {
      const w = await world(t, backend);
      const s = sockets();
      const alice = client(t, w.server.wsUrl, { token: w.token }, sockets().factory);
      const bob = client(t, w.server.wsUrl, { ticket: w.ticket }, s.factory);
      const seen: Message[] = [];
      bob.on('message.created', (f) => void seen.push(f.message));
      await until('both connected', () => alice.state === 'open' && bob.state === 'open');
      await alice.send(w.roomId, 'm1');
      await until('bob sees m1', () => seen.length === 1);
      s.opened[0]!.terminate(); // the network drops: no close frame
      await until('bob notices', () => bob.state !== 'open');
      for (const text of ['m2', 'm3', 'm4']) await alice.send(w.roomId, text);
      await until('bob catches up', () => seen.length >= 4);
      await until('no duplicates arrive', () => bob.state === 'open');
      assert.deepEqual(seen.map((m) => [m.seq, m.content]), [[1, 'm1'], [2, 'm2'], [3, 'm3'], [4, 'm4']]);
      assert.equal(s.opened.length, 2, 'one reconnect, with a second ticket');
      assert.equal(bob.position(w.roomId), 4);
      assert.deepEqual(s.invalid, []);
    });
  });
}

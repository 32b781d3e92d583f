/**
 * A new message's `message.ack` and the sender's own `message.created` of it leave in one socket
 * write (ws/router.ts sendAck): the frames a client gets do not change, only how many writes carry
 * them. What must hold: the sender still gets every ack before its own message.created, each
 * message exactly once, in seq order; every other member gets each message once, in order; with
 * several senders in a room (one of them carries the room's frames, the others' acks go out first)
 * and a sender in two rooms at once.
 *
 * The one-write claim is checked on the real sockets: the test wraps uWS's socket methods (send,
 * cork, publish: shared by every uWS socket of the process, the node's too) with recorders that
 * call through, and finds each ack in the same cork as its message.created.
 */
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import WebSocket from 'ws';
import { backends } from '../helpers/backends.ts';
import type { WsClient } from '../helpers/ws-client.ts';
import { startWorld } from './harness.ts';

interface Write {
  user: string | undefined;
  /** The cork the send ran in (undefined: a write of its own). */
  cork: number | undefined;
  frame: { type: string; message?: { id: string }; created?: boolean };
}

type SocketProto = Record<'send' | 'cork', (this: SpiedSocket, ...args: unknown[]) => unknown>;
interface SpiedSocket {
  getUserData(): { conn?: { user?: { id: string } } };
  __cork?: number;
}

/** Records every direct send of every uWS socket of this process (the prototype is shared), calling through. */
async function recordSocketWrites(t: TestContext): Promise<Write[]> {
  const uws = createRequire(import.meta.url)('uWebSockets.js');
  const app = uws.App();
  const proto = await new Promise<SocketProto>((resolve, reject) => {
    app.ws('/*', { open: (ws: object) => resolve(Object.getPrototypeOf(ws) as SocketProto) });
    app.listen('127.0.0.1', 0, (socket: unknown) => {
      if (!socket) return reject(new Error('no port for the probe app'));
      const probe = new WebSocket(`ws://127.0.0.1:${uws.us_socket_local_port(socket)}/`);
      probe.on('open', () => probe.close());
      t.after(() => uws.us_listen_socket_close(socket));
    });
  });
  const writes: Write[] = [];
  const { send, cork } = proto;
  let corks = 0;
  proto.send = function (this: SpiedSocket, ...args: unknown[]) {
    const [message] = args;
    const text = typeof message === 'string' ? message : Buffer.from(message as ArrayBuffer).toString();
    writes.push({ user: this.getUserData().conn?.user?.id, cork: this.__cork, frame: JSON.parse(text) });
    return send.apply(this, args);
  };
  proto.cork = function (this: SpiedSocket, ...args: unknown[]) {
    const outer = this.__cork;
    this.__cork ??= ++corks;
    try {
      return cork.apply(this, args);
    } finally {
      this.__cork = outer;
    }
  };
  t.after(() => Object.assign(proto, { send, cork }));
  return writes;
}

/** The room's message.created frames a client got: every seq from 1 to n once, in order. */
function assertOnceInOrder(ws: WsClient, roomId: string, n: number, who: string): void {
  const seqs = ws.all('message.created').filter((f) => f.room_id === roomId).map((f) => f.message.seq);
  assert.deepEqual(seqs, Array.from({ length: n }, (_, i) => i + 1), `${who}: each message of the room once, in seq order`);
}

/** Every ack of a new message before the sender's own message.created of it. */
function assertAckFirst(ws: WsClient, keys: string[], who: string): void {
  for (const key of keys) {
    const ack = ws.all('message.ack').find((a) => a.client_msg_id === key);
    assert.ok(ack?.created, `${who}: a created ack for ${key}`);
    const created = ws.frames.findIndex((f) => f.type === 'message.created' && f.message.id === ack.message.id);
    assert.ok(created > ws.frames.indexOf(ack), `${who}: the ack of ${key} before its message.created`);
  }
}

const keys = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

for (const backend of backends()) {
  describe(`ws: an ack and the sender's message.created in one write [${backend.name}]`, () => {
    test('one sender pipelining', async (t) => {
      const w = await startWorld(t, backend);
      const [alice] = await w.users('alice', 'bob');
      const room = await w.room(alice!, ['bob']);
      const sender = await w.connect('alice');
      const watcher = await w.connect('bob');
      await Promise.all([sender, watcher].map((ws) => ws.first('sync.complete', (f) => f.room_id === room)));
      const writes = await recordSocketWrites(t);

      const sent = keys('a', 12);
      for (const key of sent) sender.send({ type: 'message.send', room_id: room, content: `m-${key}`, client_msg_id: key });
      await watcher.waitUntil(() => watcher.all('message.created').length >= sent.length);
      await sender.waitUntil(() => sender.all('message.created').length >= sent.length);

      assertOnceInOrder(watcher, room, sent.length, 'bob');
      assertOnceInOrder(sender, room, sent.length, 'alice');
      assertAckFirst(sender, sent, 'alice');
      // On the socket: each ack was written in a cork that also wrote its message.created, after it.
      const alices = writes.filter((wr) => wr.user === 'alice');
      for (const ack of alices.filter((wr) => wr.frame.type === 'message.ack')) {
        assert.notEqual(ack.cork, undefined, `the ack of ${ack.frame.message!.id} went out in a write of its own`);
        const mine = alices.filter((wr) => wr.cork === ack.cork);
        const created = mine.findIndex((wr) => wr.frame.type === 'message.created' && wr.frame.message!.id === ack.frame.message!.id);
        assert.ok(created > mine.indexOf(ack), `its message.created in the same write, after it`);
      }
      assert.equal(alices.filter((wr) => wr.frame.type === 'message.created').length, sent.length, 'alice got each message.created by the one write');
      assert.equal(writes.filter((wr) => wr.user === 'bob').length, 0, 'bob got the room through the topic, not direct sends');
    });

    test('two senders in a room, one of them in a second room too', async (t) => {
      const w = await startWorld(t, backend);
      const [alice] = await w.users('alice', 'bob', 'carol');
      const room = await w.room(alice!, ['bob', 'carol'], 'shared');
      const side = await w.room(alice!, ['carol'], 'side');
      const [a, b, c] = await Promise.all(['alice', 'bob', 'carol'].map((u) => w.connect(u)));
      await Promise.all([a!, b!, c!].map((ws) => ws.first('sync.complete', (f) => f.room_id === room)));
      await Promise.all([a!, c!].map((ws) => ws.first('sync.complete', (f) => f.room_id === side)));

      const fromAlice = keys('a', 10), fromBob = keys('b', 10), inSide = keys('s', 6);
      for (let i = 0; i < 10; i++) {
        a!.send({ type: 'message.send', room_id: room, content: `m-${fromAlice[i]}`, client_msg_id: fromAlice[i] });
        if (i < inSide.length) a!.send({ type: 'message.send', room_id: side, content: `m-${inSide[i]}`, client_msg_id: inSide[i] });
        b!.send({ type: 'message.send', room_id: room, content: `m-${fromBob[i]}`, client_msg_id: fromBob[i] });
      }
      const total = fromAlice.length + fromBob.length;
      for (const ws of [a!, b!, c!]) await ws.waitUntil(() => ws.all('message.created').filter((f) => f.room_id === room).length >= total);
      for (const ws of [a!, c!]) await ws.waitUntil(() => ws.all('message.created').filter((f) => f.room_id === side).length >= inSide.length);

      assertOnceInOrder(a!, room, total, 'alice');
      assertOnceInOrder(b!, room, total, 'bob');
      assertOnceInOrder(c!, room, total, 'carol');
      assertOnceInOrder(a!, side, inSide.length, 'alice (side)');
      assertOnceInOrder(c!, side, inSide.length, 'carol (side)');
      assertAckFirst(a!, [...fromAlice, ...inSide], 'alice');
      assertAckFirst(b!, fromBob, 'bob');
      assert.equal(a!.all('message.ack').length, fromAlice.length + inSide.length, 'alice: one ack per send');
      assert.equal(b!.all('message.ack').length, fromBob.length, 'bob: one ack per send');
    });
  });
}

/** Backpressure: a client that stops reading is closed with the resume code; the others keep receiving; it then resumes completely. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CloseCode } from '../../src/ws/close-codes.ts';
import { backends } from '../helpers/backends.ts';
import type { WsClient } from '../helpers/ws-client.ts';
import { startWorld } from './harness.ts';

const seqs = (c: WsClient) => c.all('message.created').map((f) => f.message.seq);

for (const backend of backends()) {
  describe(`ws slow consumer (${backend.name})`, () => {
    test('is disconnected with 4008 while others keep receiving, then resumes everything', async (t) => {
      const w = await startWorld(t, backend, { wsMaxBackpressureBytes: 64 * 1024 });
      const [alice] = await w.users('alice', 'bob', 'carol');
      const roomId = await w.room(alice!, ['bob', 'carol']);
      const start = [{ room_id: roomId, last_seq: 0 }];
      const [sender, slow, carol] = await Promise.all([w.connect('alice', { resume: start }), w.connect('bob', { resume: start }), w.connect('carol', { resume: start })]);
      await Promise.all([sender, slow, carol].map((c) => c.first('sync.complete')));
      const slowId = (await slow.first('connected')).connection_id;
      const kicked = new Promise<number>((resolve) => w.node.events.on('close', (e) => e.connection_id === slowId && resolve(e.code)));
      slow.pause();

      // ~12 KB per frame; enough to fill the kernel's socket buffers and then the server's.
      const total = 1300;
      const content = 'x'.repeat(4000);
      const meta = { pad: 'y'.repeat(7900) };
      for (let i = 1; i <= total; i++) sender.send({ type: 'message.send', room_id: roomId, content, meta, client_msg_id: `k${i}` });
      // The server closes at once; the close frame waits behind the unread data, and uWS drops a
      // socket that reads nothing for seconds after a close, so the client reads again now.
      assert.equal(await kicked, CloseCode.SLOW_CONSUMER);
      slow.resume();
      const closed = await slow.closed;
      assert.equal(closed.code, CloseCode.SLOW_CONSUMER);
      const got = seqs(slow);
      assert.ok(got.length < total, `the slow client was cut off early (${got.length} of ${total})`);
      assert.deepEqual(got, Array.from({ length: got.length }, (_, i) => i + 1), 'what it got before the close is in order, without gaps');

      await carol.waitUntil(() => carol.all('message.created').length === total, 60_000);
      assert.deepEqual(seqs(carol), Array.from({ length: total }, (_, i) => i + 1));

      const lastSeen = got.at(-1) ?? 0;
      const again = await w.connect('bob', { resume: [{ room_id: roomId, last_seq: lastSeen }] });
      await again.first('sync.complete', undefined, 30_000);
      assert.deepEqual([...got, ...seqs(again)], Array.from({ length: total }, (_, i) => i + 1));
    });

    test('is disconnected by the timed check when too little is published for the check by volume', async (t) => {
      // A 16 MiB payload limit puts uWS's hard cap 64 MiB above the 64 KiB limit, so the router
      // checks by volume only every 32 MiB published (node.ts): less than this test ever sends.
      const w = await startWorld(t, backend, { wsMaxBackpressureBytes: 64 * 1024, wsMaxPayloadBytes: 16 * 1024 * 1024 });
      const [alice] = await w.users('alice', 'bob');
      const roomId = await w.room(alice!, ['bob']);
      const start = [{ room_id: roomId, last_seq: 0 }];
      const [sender, slow] = await Promise.all([w.connect('alice', { resume: start }), w.connect('bob', { resume: start })]);
      await Promise.all([sender, slow].map((c) => c.first('sync.complete')));
      const slowId = (await slow.first('connected')).connection_id;
      let code: number | undefined;
      w.node.events.on('close', (e) => { if (e.connection_id === slowId) code = e.code; });
      slow.pause();
      const content = 'x'.repeat(4000);
      const meta = { pad: 'y'.repeat(7900) };
      const most = 2000; // ~24 MB of message.created frames, below the 32 MiB volume check
      let sent = 0;
      while (code === undefined && sent < most) {
        // Twenty at a time, each chunk answered before the next: published at the pace of commits.
        const keys = Array.from({ length: 20 }, (_, i) => `t${sent + i + 1}`);
        for (const key of keys) sender.send({ type: 'message.send', room_id: roomId, content, meta, client_msg_id: key });
        sent += keys.length;
        await sender.first('message.ack', (f) => f.client_msg_id === keys.at(-1), 30_000);
      }
      slow.resume();
      assert.equal(code, CloseCode.SLOW_CONSUMER, `kicked within ${sent} sends (~${Math.round((sent * 12) / 1024)} MB published)`);
      assert.equal((await slow.closed).code, CloseCode.SLOW_CONSUMER);
      sender.assertValid();
    });
  });
}

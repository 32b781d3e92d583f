/**
 * Kill a node and lose nothing, with real processes: `chatapi serve` runs as a child process;
 * SIGTERM tells clients `server.shutdown` and exits 0 within 10 s; SIGKILL (a crash) loses
 * nothing either — after a restart on the same database a client resumes from its last seq and
 * receives exactly what it missed, in order.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { backends } from '../helpers/backends.ts';
import { serveProcess } from '../helpers/chatapi-process.ts';
import { apiClient, type ApiClient } from '../helpers/client.ts';
import { WsClient } from '../helpers/ws-client.ts';

/** Starts `chatapi serve` on free ports (test/helpers/chatapi-process.ts) on this database. */
const serve = (databaseUrl: string, masterKey: string) => serveProcess({ DATABASE_URL: databaseUrl, MASTER_KEY: masterKey });

for (const backend of backends()) {
  describe(`node process restart [${backend.name}]`, () => {
    test('SIGTERM drains and exits 0; after SIGKILL and restart a client resumes exactly what it missed', async (t) => {
      const db = await backend.url();
      const masterKey = 'mk_' + randomBytes(16).toString('hex');
      let node = await serve(db.url, masterKey);
      t.after(async () => {
        if (node.child.exitCode === null && node.child.signalCode === null) { node.child.kill('SIGKILL'); await once(node.child, 'exit'); }
        await db.drop();
      });
      const tenant = (await apiClient(node.http, { 'X-Master-Key': masterKey }).POST('/v1/tenants', { body: { name: 'restart' } })).data!.data;
      const as = (base: string, user?: string): ApiClient => apiClient(base, user ? { 'X-API-Key': tenant.api_key, 'X-User-Id': user } : { 'X-API-Key': tenant.api_key });
      for (const id of ['alice', 'bob']) await as(node.http).POST('/v1/users', { body: { id, username: id } });
      const roomId = (await as(node.http, 'alice').POST('/v1/rooms', { body: { type: 'group', name: 'r', members: ['bob'] } })).data!.data.id;
      const send = async (base: string, n: number, from: number) => {
        for (let i = 0; i < n; i++) {
          const res = await as(base, 'alice').POST('/v1/rooms/{room_id}/messages', { params: { path: { room_id: roomId } }, body: { content: `m${from + i}` } });
          assert.equal(res.response.status, 201);
        }
      };
      const bobHeaders = { 'X-API-Key': tenant.api_key, 'X-User-Id': 'bob' };

      // Graceful: a connected client is told, the process exits 0 well within 10 s.
      await send(node.http, 3, 1);
      const bob = await WsClient.connect(node.ws, { headers: bobHeaders, label: 'bob' });
      bob.send({ type: 'resume', rooms: [{ room_id: roomId, last_seq: 0 }] });
      await bob.first('sync.complete', (f) => f.room_id === roomId);
      const lastSeen = Math.max(...bob.all('message.created').map((f) => f.message.seq));
      assert.equal(lastSeen, 3);
      const started = Date.now();
      node.child.kill('SIGTERM');
      await bob.first('server.shutdown');
      const [code] = await once(node.child, 'exit');
      assert.equal(code, 0);
      assert.ok(Date.now() - started < 10_000, 'exits within 10 s');

      // Restart, miss 200 messages, crash without any cleanup, restart, resume.
      node = await serve(db.url, masterKey);
      await send(node.http, 200, 4);
      node.child.kill('SIGKILL');
      await once(node.child, 'exit');
      node = await serve(db.url, masterKey);
      const back = await WsClient.connect(node.ws, { headers: bobHeaders, label: 'bob again' });
      back.send({ type: 'resume', rooms: [{ room_id: roomId, last_seq: lastSeen }] });
      await back.first('sync.complete', (f) => f.room_id === roomId, 15_000);
      const seqs = back.all('message.created').filter((f) => f.room_id === roomId).map((f) => f.message.seq);
      assert.deepEqual(seqs, Array.from({ length: 200 }, (_, i) => i + 4));
      await back.close();
      node.child.kill('SIGTERM');
      await once(node.child, 'exit');
    });
  });
}

/**
 * Health that neither hangs nor lies, and outages answered 503 (issue 7, fault 3):
 *  - MariaDB blackholed (a TCP proxy in front of it stops answering, as a dead host or a
 *    firewall that drops packets would): /health answers 503 within its deadline instead of
 *    hanging, and a send answers 503 SERVICE_UNAVAILABLE with Retry-After instead of hanging or 500;
 *  - the SQLite file deleted or replaced under a running node: /health says so (503) and sends are
 *    refused with 503 instead of being acknowledged into a file nobody will open again.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { existsSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { backends, type Backend } from '../helpers/backends.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

/** A TCP proxy to `target` that can be told to stop answering (blackhole) without closing anything. */
async function blackholeProxy(target: { host: string; port: number }) {
  let dark = false;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => {});
    if (dark) return; // accepted, never answered
    const upstream = net.connect(target);
    sockets.add(upstream);
    upstream.on('error', () => client.destroy());
    client.on('data', (d) => { if (!dark) upstream.write(d); });
    upstream.on('data', (d) => { if (!dark) client.write(d); });
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    blackhole: () => void (dark = true),
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The backend's fresh database, reached through `port` on 127.0.0.1, with short MySQL deadlines. */
function throughProxy(backend: Backend, port: number): Backend {
  return {
    name: backend.name,
    async url() {
      const db = await backend.url();
      const u = new URL(db.url);
      u.hostname = '127.0.0.1';
      u.port = String(port);
      u.searchParams.set('query_timeout_ms', '1500');
      u.searchParams.set('connect_timeout_ms', '1500');
      return { url: u.toString(), drop: db.drop };
    },
  };
}

async function sendAs(s: TestServer, headers: Record<string, string>, roomId: string, key: string) {
  const started = performance.now();
  const res = await s.raw('POST', `/v1/rooms/${roomId}/messages`, {
    headers: { ...headers, 'Content-Type': 'application/json', 'Idempotency-Key': key }, body: '{"content":"hi"}',
  });
  return { ...res, ms: performance.now() - started };
}

async function world(s: TestServer) {
  const tenant = await s.tenant();
  const alice = await tenant.user('alice');
  const roomId = (await alice.POST('/v1/rooms', { body: { type: 'group', name: 'r', members: [] } })).data!.data.id;
  assert.equal((await sendAs(s, tenant.headers('alice'), roomId, 'before')).status, 201);
  assert.equal((await s.anonymous.GET('/health', {})).response.status, 200);
  return { headers: tenant.headers('alice'), roomId };
}

function assertOutage(res: { status: number; headers: Headers; body: unknown }) {
  assert.equal(res.status, 503, JSON.stringify(res.body));
  assert.equal((res.body as { error: { code: string } }).error.code, 'SERVICE_UNAVAILABLE');
  assert.match(res.headers.get('retry-after') ?? '', /^[1-9]\d*$/);
}

for (const backend of backends()) {
  describe(`database outages [${backend.name}]`, () => {
    if (backend.name === 'mysql') {
      test('MariaDB blackholed: /health answers 503 within its deadline, a send answers 503 with Retry-After', async (t) => {
        const proxy = await blackholeProxy({ host: '127.0.0.1', port: Number(new URL(process.env.MYSQL_URL ?? 'mysql://127.0.0.1:3306').port || 3306) });
        const s = await startTestServer(throughProxy(backend, proxy.port), { authCacheMs: 60_000 }, { ws: false });
        t.after(async () => {
          await proxy.close(); // unblocks every wait, so the server can close
          await s.close();
        });
        const { headers, roomId } = await world(s);
        proxy.blackhole();
        const started = performance.now();
        const health = await s.anonymous.GET('/health', {});
        const healthMs = performance.now() - started;
        assert.equal(health.response.status, 503);
        assert.ok(healthMs < 10_000, `/health answered after ${Math.round(healthMs)} ms`);
        const sent = await sendAs(s, headers, roomId, 'during');
        assertOutage(sent);
      });
    }

    if (backend.name === 'sqlite') {
      for (const how of ['deleted', 'replaced'] as const) {
        test(`the SQLite file ${how} under the node: /health 503, sends refused with 503, nothing acknowledged`, async (t) => {
          const s = await startTestServer(backend, {}, { ws: false });
          t.after(() => s.close());
          const { headers, roomId } = await world(s);
          const file = s.config.databaseUrl.slice('sqlite:'.length);
          if (how === 'deleted') unlinkSync(file);
          else {
            renameSync(file, `${file}.old`);
            writeFileSync(file, '');
          }
          const health = await s.anonymous.GET('/health', {});
          assert.equal(health.response.status, 503);
          assert.match(JSON.stringify(health.error), /not writable|unreachable/);
          for (const key of ['after-1', 'after-2']) assertOutage(await sendAs(s, headers, roomId, key));
        });
      }

      // Writing through SQLite's memory-mapped -shm of an immutable file was a SIGBUS that killed
      // the process. chattr needs root on ext4/xfs, as this machine and CI have.
      test('the SQLite files made immutable: 503 while they are, the node stays up, and writes resume after', async (t) => {
        const s = await startTestServer(backend, {}, { ws: false });
        const file = s.config.databaseUrl.slice('sqlite:'.length);
        const files = [file, `${file}-wal`, `${file}-shm`].filter((f) => existsSync(f));
        const chattr = (flag: string) => execFileSync('chattr', [flag, ...files]);
        t.after(async () => {
          chattr('-i');
          await s.close();
        });
        const { headers, roomId } = await world(s);
        chattr('+i');
        const health = await s.anonymous.GET('/health', {});
        assert.equal(health.response.status, 503);
        for (const key of ['frozen-1', 'frozen-2']) assertOutage(await sendAs(s, headers, roomId, key));
        chattr('-i');
        assert.equal((await sendAs(s, headers, roomId, 'thawed')).status, 201);
        assert.equal((await s.anonymous.GET('/health', {})).response.status, 200);
      });
    }
  });
}

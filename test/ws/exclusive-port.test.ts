/**
 * A busy WS_PORT is an error, as a busy HTTP_PORT is (issue 7, fault 6). uWS sets SO_REUSEPORT by
 * default, so a second node started with the same WS_PORT used to listen too, and the kernel split
 * connections (and live deliveries) between the two. The node listens exclusively now: a second
 * start() on the port refuses with a message naming WS_PORT, and `chatapi serve` exits with it.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import net, { type AddressInfo } from 'node:net';
import { backends, type Backend } from '../helpers/backends.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { start } from '../../src/server.ts';
import { createLogger } from '../../src/log.ts';
import { WsClient } from '../helpers/ws-client.ts';

/**
 * Runs `chatapi serve` until it exits, or until it says it is running (then it is stopped: the
 * port was shared); its exit code (null when it ran) and stderr.
 */
function serveUntilExit(env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', 'serve'], {
    env: { ...process.env, LOG_LEVEL: 'silent', ...env }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => {
    child.stdout.on('data', (chunk: Buffer) => {
      if (!chunk.toString().includes('chatapi is running')) return;
      child.once('exit', () => resolve({ code: null, stderr: `${stderr}(it started and shared WS_PORT)` }));
      child.kill('SIGTERM');
    });
    child.once('exit', (code) => resolve({ code, stderr }));
  });
}

/** A port nothing listens on right now (the kernel's pick for port 0, then released). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer().once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

/**
 * A node whose WS_PORT was given explicitly, as in production (the kernel never lets a second
 * socket join a port it picked for port 0, so that would not show the fault). Retries when
 * another process takes the free port first.
 */
async function nodeOnExplicitPort(backend: Backend): Promise<TestServer> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startTestServer(backend, { wsPort: await freePort() }, { http: false });
    } catch (err) {
      if (attempt >= 5) throw err;
    }
  }
}

for (const backend of backends()) {
  describe(`exclusive WS_PORT [${backend.name}]`, () => {
    test('a second start() on a busy WS_PORT refuses, naming WS_PORT; the first node keeps serving', async (t) => {
      const s = await nodeOnExplicitPort(backend);
      t.after(() => s.close());
      const port = s.running.wsPort;
      await assert.rejects(
        start({ ...s.config, wsPort: port }, { http: false, log: createLogger('silent') }),
        (err: Error) => new RegExp(`WS_PORT ${port} on 127\\.0\\.0\\.1 is not available`).test(err.message),
      );
      // Every connection still reaches the first node (none can land on a second listener).
      const client = await WsClient.connect(s.wsUrl, { label: 'probe' });
      t.after(() => client.close());
      assert.equal(s.running.wsNode!.connections(), 1);
    });

    // The port is the same whatever the database: one real process is enough.
    if (backend.name === 'sqlite') test('`chatapi serve` with a busy WS_PORT exits 1 with a clear message', async (t) => {
      const s = await nodeOnExplicitPort(backend);
      t.after(() => s.close());
      const { code, stderr } = await serveUntilExit({
        DATABASE_URL: s.config.databaseUrl, MASTER_KEY: s.masterKey, HOST: '127.0.0.1', HTTP_PORT: '0', WS_PORT: String(s.running.wsPort),
      });
      assert.equal(code, 1, stderr);
      assert.match(stderr, new RegExp(`chatapi serve: WS_PORT ${s.running.wsPort} .* not available`));
    });
  });
}

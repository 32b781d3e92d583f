/**
 * Benchmark subject `soketi`: Soketi 1.6.1, the Pusher-protocol server built on uWebSockets.js —
 * a product a user might pick instead of chatapi. Not a chatapi dependency: it is installed on
 * demand into load/bench/.soketi/ (git-ignored) with `npm install --ignore-scripts`, its
 * uWebSockets.js (a GitHub dependency upstream) overridden with the npm build chatapi itself uses.
 *
 * How it is driven (same harness, same scenarios): every room is a private channel; a member
 * connects to /app/<key>?protocol=7, reads its socket_id from pusher:connection_established and
 * subscribes with the HMAC-SHA256 channel signature a Pusher auth endpoint would return. A sender
 * publishes a *client event* over its WebSocket (one inbound frame → the room, like chatapi's
 * message.send and the raw servers' frames; the HTTP events API would add an HTTP request per
 * message, which the others do not pay). Pusher does not echo client events to their sender, so
 * a message makes size − 1 deliveries and the harness takes the first non-sender member's copy
 * as the sender's acknowledgement (FanoutTarget.echo = false). Client events are not stored:
 * compare Soketi with uws-raw/ws-loop for fan-out, with chatapi for what a user gets.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import type { ChildServer } from '../lib/processes.ts';
import type { FanoutTarget } from './fanout.ts';
import type { Subject } from './subjects.ts';

export const SOKETI_DIR = fileURLToPath(new URL('./.soketi/', import.meta.url));
const SERVER_JS = `${SOKETI_DIR}node_modules/@soketi/soketi/bin/server.js`;
const UWS_OVERRIDE = 'npm:@trufflesuite/uws-js-unofficial@20.30.0-unofficial.0';
const APP = { id: 'bench', key: 'bench-key', secret: 'bench-secret' };

/** Installs Soketi into load/bench/.soketi/ unless it is there; throws with npm's reason. */
export function ensureSoketi(): void {
  if (existsSync(SERVER_JS)) return;
  mkdirSync(SOKETI_DIR, { recursive: true });
  writeFileSync(`${SOKETI_DIR}package.json`, JSON.stringify({
    name: 'chatapi-bench-soketi',
    private: true,
    description: 'Soketi as a load/bench subject, installed on demand (not a chatapi dependency)',
    dependencies: { '@soketi/soketi': '1.6.1' },
    overrides: { 'uWebSockets.js': UWS_OVERRIDE },
  }, null, 2) + '\n');
  console.log('  soketi: installing @soketi/soketi 1.6.1 into load/bench/.soketi/ (once, about a minute)');
  const npm = spawnSync('npm', ['install', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'],
    { cwd: SOKETI_DIR, encoding: 'utf8', timeout: 10 * 60_000 });
  if (npm.status !== 0 || !existsSync(SERVER_JS)) {
    const why = (npm.error?.message ?? `${npm.stderr ?? ''}`.trim().split('\n').slice(-3).join(' | ')) || `exit ${npm.status}`;
    throw new Error(`npm install of @soketi/soketi failed: ${why}`);
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

async function startSoketi(): Promise<ChildServer> {
  const [port, metricsPort] = [await freePort(), await freePort()];
  const profile = process.env.CHATAPI_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.CHATAPI_CPU_PROF}`] : [];
  const gcOnSignal = fileURLToPath(new URL('./servers/gc-on-signal.cjs', import.meta.url));
  const child = spawn(process.execPath, [...profile, '--expose-gc', '--require', gcOnSignal, SERVER_JS, 'start'], {
    cwd: SOKETI_DIR,
    env: {
      PATH: process.env.PATH,
      SOKETI_HOST: '127.0.0.1',
      SOKETI_PORT: String(port),
      SOKETI_METRICS_HOST: '127.0.0.1',
      SOKETI_METRICS_SERVER_PORT: String(metricsPort),
      SOKETI_DEFAULT_APP_ID: APP.id,
      SOKETI_DEFAULT_APP_KEY: APP.key,
      SOKETI_DEFAULT_APP_SECRET: APP.secret,
      SOKETI_DEFAULT_APP_ENABLE_CLIENT_MESSAGES: 'true',
      SOKETI_SHUTDOWN_GRACE_PERIOD: '0',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-2000); });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const until = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`soketi exited early (code ${child.exitCode}): ${stderr.trim().split('\n').slice(-3).join(' | ')}`);
    if (Date.now() > until) { child.kill('SIGKILL'); throw new Error('soketi not ready in 30 s'); }
    const ok = await fetch(`http://127.0.0.1:${port}/ready`).then((r) => r.ok, () => false);
    if (ok) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGUSR2'); // a full GC before the harness reads the baseline RSS (servers/gc-on-signal.cjs)
  await new Promise((r) => setTimeout(r, 500));
  return {
    pid: child.pid!, httpPort: port, wsPort: port, info: { version: '1.6.1' }, child,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}

const sign = (socketId: string, channel: string) =>
  `${APP.key}:${createHmac('sha256', APP.secret).update(`${socketId}:${channel}`).digest('hex')}`;

export async function startSoketiSubject(): Promise<Subject> {
  ensureSoketi();
  let layoutNo = 0;
  const subject: Subject = {
    name: 'soketi',
    server: await startSoketi(),
    async layout(_rooms, _size): Promise<FanoutTarget> {
      const ns = `L${layoutNo++}`;
      const channel = (room: number) => `private-${ns}-${room}`;
      return {
        name: 'soketi', pid: subject.server.pid, port: subject.server.wsPort,
        markerOnly: true, echo: false,
        deliveryTag: '"client-m"',
        errorTag: '"pusher:error"',
        member: () => ({ path: `/app/${APP.key}?protocol=7&client=chatapi-bench` }),
        sendFrame: (room, text) => `{"event":"client-m","channel":"${channel(room)}","data":"${text}"}`,
        isReady(frame, send, room) {
          if (frame.includes('"pusher:connection_established"')) {
            const socketId = (JSON.parse(JSON.parse(frame).data) as { socket_id: string }).socket_id;
            const ch = channel(room);
            send(JSON.stringify({ event: 'pusher:subscribe', data: { channel: ch, auth: sign(socketId, ch) } }));
            return false;
          }
          if (frame.includes('"pusher:error"') || frame.includes('subscription_error')) throw new Error(`soketi refused: ${frame}`);
          return frame.includes('"pusher_internal:subscription_succeeded"');
        },
      };
    },
    async restart() {
      await subject.server.stop();
      subject.server = await startSoketi();
    },
    stop: () => subject.server.stop(),
  };
  return subject;
}

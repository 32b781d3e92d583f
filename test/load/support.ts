// Test support for the rate-limit suites: a settable clock, a capturing logger, Redis cleanup,
// and a TCP proxy in front of Redis that can be cut and restored (to simulate an outage).
import net from 'node:net';
import { once } from 'node:events';
import { Redis } from 'ioredis';

export const REDIS_URL = process.env.REDIS_TEST_URL ?? 'redis://127.0.0.1:6379';

export function fakeClock(start = 1_700_000_000_000) {
  let t = start;
  return {
    now: () => t,
    advance(ms: number) { t += ms; },
    set(offsetMs: number) { t = start + offsetMs; },
  };
}

type Waiter = (msg: string) => void;

export function quietLog() {
  const warnings: string[] = [];
  const infos: string[] = [];
  const waiters = { warn: [] as Waiter[], info: [] as Waiter[] };
  // bounded: a transition that never comes fails the test instead of hanging it
  const next = (kind: 'warn' | 'info') => within(10_000, new Promise<string>((resolve) => waiters[kind].push(resolve)), `a ${kind} log line`);
  return {
    warnings,
    infos,
    warn(_obj: object, msg = '') { warnings.push(msg); waiters.warn.splice(0).forEach((w) => w(msg)); },
    info(_obj: object, msg = '') { infos.push(msg); waiters.info.splice(0).forEach((w) => w(msg)); },
    nextWarning: () => next('warn'),
    nextInfo: () => next('info'),
  };
}

export function within<T>(ms: number, promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`no ${what} within ${ms} ms`)), ms); });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export async function redisCleanup(prefix: string): Promise<void> {
  const redis = new Redis(REDIS_URL, { lazyConnect: true });
  try {
    await redis.connect();
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
  } finally {
    redis.disconnect();
  }
}

/** A TCP proxy to 127.0.0.1:targetPort; stop() cuts every connection and stops listening. */
export async function startProxy(targetPort: number) {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => {});
      s.on('close', () => { sockets.delete(s); client.destroy(); upstream.destroy(); });
    }
    client.pipe(upstream).pipe(client);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    async stop() {
      const closed = new Promise((resolve) => server.close(resolve));
      for (const s of sockets) s.destroy();
      await closed;
    },
    async resume() {
      server.listen(port, '127.0.0.1');
      await once(server, 'listening');
    },
    async close() {
      for (const s of sockets) s.destroy();
      if (server.listening) await new Promise((resolve) => server.close(resolve));
    },
  };
}

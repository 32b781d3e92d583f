/**
 * Redis pub/sub bus (ioredis): every process publishes each event once, as one JSON string, on
 * `${prefix}events`; every process subscribes to it. Events carry the publishing node's id so a
 * node skips its own (it has already delivered them to its local subscribers, without Redis).
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { LocalFanout } from './memory.ts';
import type { Bus, BusEvent, BusLog } from './types.ts';
import { Unannounced } from './unannounced.ts';

export interface RedisBusOptions {
  url: string;
  prefix: string;
  log: BusLog;
  /** How long start-up waits for Redis before giving up (default 5000 ms). */
  connectTimeoutMs?: number;
}

interface Envelope {
  n: string; // publishing node
  e: BusEvent;
}

export async function createRedisBus(opts: RedisBusOptions): Promise<Bus & { nodeId: string }> {
  const nodeId = randomUUID();
  const channel = `${opts.prefix}events`;
  const pub = new Redis(opts.url, { lazyConnect: true, maxRetriesPerRequest: 2 });
  const sub = pub.duplicate();
  const local = new LocalFanout(opts.log);
  const gapHandlers = new Set<() => void>();
  let closed = false;

  sub.on('message', (ch: string, text: string) => {
    if (ch !== channel) return;
    let env: Envelope;
    try {
      env = JSON.parse(text) as Envelope;
    } catch (err) {
      opts.log.warn({ err }, 'bus: ignoring a malformed event');
      return;
    }
    if (env.n !== nodeId) local.deliver(env.e, false);
  });
  watchGaps(sub, opts.log, () => {
    for (const fn of gapHandlers) fn();
  });
  for (const conn of [pub, sub]) conn.on('error', (err: Error) => opts.log.warn({ err: err.message }, 'bus: redis error'));

  try {
    await withTimeout(Promise.all([pub.connect(), sub.connect()]), opts.connectTimeoutMs ?? 5000, `Redis at ${redactUrl(opts.url)} did not answer`);
    await sub.subscribe(channel);
  } catch (err) {
    pub.disconnect();
    sub.disconnect();
    throw err;
  }

  return {
    nodeId,
    publish(evt) {
      if (closed) return;
      local.deliver(evt, true);
      const text = JSON.stringify({ n: nodeId, e: evt } satisfies Envelope);
      pub.publish(channel, text).catch((err: Error) => opts.log.error({ err: err.message, event: evt.type }, 'bus: publish to redis failed'));
    },
    subscribe: (fn) => local.subscribe(fn),
    unannounced: new Unannounced(),
    onGap(fn) {
      gapHandlers.add(fn);
      return () => void gapHandlers.delete(fn);
    },
    mode: () => (sub.status === 'ready' && pub.status === 'ready' ? 'redis' : 'redis-degraded'),
    async close() {
      if (closed) return;
      closed = true;
      local.clear();
      gapHandlers.clear();
      await Promise.allSettled([sub.quit(), pub.quit()]);
    },
  };
}

/** After the subscriber connection drops and comes back, events published meanwhile were missed. */
function watchGaps(sub: Redis, log: BusLog, onGap: () => void): void {
  let ready = false;
  let lost = false;
  sub.on('ready', () => {
    if (lost) {
      log.warn({}, 'bus: redis subscription restored; events may have been missed');
      queueMicrotask(onGap);
    }
    ready = true;
    lost = false;
  });
  sub.on('close', () => {
    if (ready) log.warn({}, 'bus: redis subscription lost');
    lost ||= ready;
    ready = false;
  });
}

function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${message} within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'REDIS_URL';
  }
}

/**
 * Assembles one chatapi process: database → bus → domain → REST (Koa) and/or the WebSocket node.
 * `start` is what `chatapi serve` and every test call, so tests run the real assembly.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Config } from './config.ts';
import { createLogger, type Logger } from './log.ts';
import { openDatabase, migrate, closeDatabase } from './store/db.ts';
import { createBus, type Bus } from './bus/index.ts';
import type { Knex } from 'knex';
import { createDomain, type Domain } from './domain/index.ts';
import { createHttpApp } from './http/app.ts';
import { VERSION } from './version.ts';
import { createMetrics, type Metrics } from './metrics.ts';
import { createTenantLimiter, type TenantLimiter } from './ratelimit/index.ts';
import { rateLimitMiddleware } from './ratelimit/middleware.ts';
import { resolveFromAuthState } from './ratelimit/resolver.ts';

export interface StartOptions {
  /** Serve REST (default true). */
  http?: boolean;
  /** Serve the WebSocket node (default true). */
  ws?: boolean;
  log?: Logger;
}

export interface RunningServer {
  httpPort: number;
  wsPort: number;
  domain: Domain;
  limiter: TenantLimiter;
  metrics: Metrics;
  /** The parts, for tests and tools that need them (e.g. a second domain with another clock). */
  parts: { db: Knex; bus: Bus };
  log: Logger;
  /** Graceful: stop accepting, tell WS clients, finish in-flight work, release everything. */
  close(): Promise<void>;
}

function listen(server: http.Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve((server.address() as AddressInfo).port));
  });
}

function closeHttp(server: http.Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
  });
}

export async function start(config: Config, opts: StartOptions = {}): Promise<RunningServer> {
  const log = opts.log ?? createLogger(config.logLevel);
  const db = await openDatabase(config.databaseUrl);
  await migrate(db);
  const bus = await createBus({ redisUrl: config.redisUrl, prefix: config.redisPrefix, log: log.child({ part: 'bus' }) });
  const domain = createDomain({ db, bus, config, log: log.child({ part: 'domain' }) });
  const closers: (() => Promise<void>)[] = [];
  const metrics = createMetrics();

  // One limiter per process, shared by REST and WebSocket frames; in Redis when scaled out.
  const limiter = await createTenantLimiter({ redisUrl: config.redisUrl, prefix: config.redisPrefix, log: log.child({ part: 'ratelimit' }) });
  closers.push(() => limiter.close());
  const defaults = { rateLimitPerSecond: config.rateLimitPerSecond, rateLimitBurst: config.rateLimitBurst };

  let httpPort = 0;
  if (opts.http !== false) {
    const { app } = await createHttpApp({
      config,
      domain,
      log: log.child({ part: 'http' }),
      startedAt: Date.now(),
      version: VERSION,
      limiter,
      metrics,
      rateLimit: rateLimitMiddleware(limiter, resolveFromAuthState(defaults), {
        exempt: (ctx) => ctx.method === 'GET' && ctx.path === '/v1/rate-limit',
      }),
      readiness: () => ({
        rate_limiter: limiter.degraded()
          ? { ok: false, detail: 'Redis unreachable: limiting per node' }
          : { ok: true, detail: limiter.mode() },
      }),
    });
    const server = http.createServer(app.callback());
    server.keepAliveTimeout = 65_000;
    httpPort = await listen(server, config.httpPort, config.host);
    closers.push(() => closeHttp(server));
  }

  let closed: Promise<void> | undefined;
  const close = () => (closed ??= (async () => {
    for (const fn of closers.reverse()) await fn().catch((err) => log.warn({ err }, 'close step failed'));
    await bus.close();
    await closeDatabase(db);
  })());

  return { httpPort, wsPort: 0, domain, limiter, metrics, parts: { db, bus }, log, close };
}

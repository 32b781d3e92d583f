/**
 * Assembles one chatapi process: database → bus → domain → REST (Koa) and/or the WebSocket node.
 * `start` is what `chatapi serve` and every test call, so tests run the real assembly.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Config } from './config.ts';
import { createLogger, type Logger } from './log.ts';
import { openDatabase, migrate, closeDatabase } from './store/db.ts';
import { checkDurability } from './store/durability.ts';
import { createBus, type Bus } from './bus/index.ts';
import type { Knex } from 'knex';
import { createDomain, type Domain, type DomainDeps } from './domain/index.ts';
import { createAttemptLimiters } from './ratelimit/attempts.ts';
import { createMailer } from './mail/index.ts';
import { createHttpApp } from './http/app.ts';
import { answerClientErrors } from './http/client-error.ts';
import { VERSION } from './version.ts';
import { createMetrics, wsObserver, type Metrics, type MetricSources } from './metrics.ts';
import { onSendBatch } from './store/batch-stats.ts';
import { sendsWaiting, walStateOf } from './store/messages.ts';
import { createTenantLimiter, type TenantLimiter } from './ratelimit/index.ts';
import { rateLimitMiddleware } from './ratelimit/middleware.ts';
import { resolveFromAuthState } from './ratelimit/resolver.ts';
import { startWsNode, type WsNode, type WsNodeOptions } from './ws/node.ts';
import { createTicketStore, type TicketStore } from './ws/tickets.ts';
import { createOutboxWorker, type OutboxWorker, type OutboxWorkerOptions } from './outbox/worker.ts';
import { wakesOutboxWorker } from './outbox/wake.ts';
import { createMemoryPresence, createRedisPresence, type PresenceRegistry } from './bus/presence.ts';

export interface StartOptions {
  /** Serve REST (default true). */
  http?: boolean;
  /** Serve the WebSocket node (default true). */
  ws?: boolean;
  log?: Logger;
  /** Domain dependencies to replace (tests inject a hasher, a clock, a mailer). */
  domain?: Pick<DomainDeps, 'hasher' | 'now' | 'mailer'>;
  /** Extra WebSocket node options (tests shorten waits and heartbeats). */
  wsNode?: Partial<Omit<WsNodeOptions, 'config' | 'domain' | 'bus' | 'log'>>;
  /** The webhook worker: tests drive it by hand (`autostart: false`, `runOnce()`) with their own clock. */
  outbox?: Pick<OutboxWorkerOptions, 'now' | 'random' | 'onAttempt'> & { autostart?: boolean };
}

export interface RunningServer {
  httpPort: number;
  wsPort: number;
  domain: Domain;
  limiter: TenantLimiter;
  metrics: Metrics;
  /** The WebSocket node, when this process runs one. */
  wsNode?: WsNode;
  /** This process's webhook delivery worker (started unless OUTBOX_WORKER=false). */
  outbox: OutboxWorker;
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
  const db = await openDatabase(config.databaseUrl, { sqliteSynchronous: config.sqliteSynchronous });
  try {
    await checkDurability(db, log.child({ part: 'store' })); // logs the settings; refuses ones that cannot keep the promise
  } catch (err) {
    await closeDatabase(db);
    throw err;
  }
  await migrate(db);
  const bus = await createBus({ redisUrl: config.redisUrl, prefix: config.redisPrefix, log: log.child({ part: 'bus' }) });
  // Who is connected comes from the presence registry, made below (it is shared with the WS node).
  let presence: PresenceRegistry | undefined;
  const online = (tenantId: string, userIds: string[]) => (presence ? presence.online(tenantId, userIds) : Promise.resolve(new Set<string>()));
  // Failed-credential counters are shared through Redis when scaled out, like the rate limit.
  const attempts = createAttemptLimiters({ redisUrl: config.redisUrl, prefix: config.redisPrefix });
  const mailer = createMailer({ smtpUrl: config.smtpUrl, from: config.mailFrom, log: log.child({ part: 'mail' }) });
  const domain = createDomain({
    db, bus, config, log: log.child({ part: 'domain' }), online, attempts: attempts.limiter, mailer, ...opts.domain,
  });
  const sources: MetricSources = { sendsWaiting: () => sendsWaiting(db), sqliteWal: () => walStateOf(db) };
  const metrics = createMetrics(sources);
  const unwatchBatches = onSendBatch(db, (size, seconds, overlapped) => {
    metrics.sendBatchSize.observe(size);
    metrics.sendCommitSeconds.observe(seconds);
    if (overlapped) metrics.sendBatchesOverlapped.inc();
  });
  /** Front doors close first and together (draining in-flight work); shared services after. */
  const frontDoors: (() => Promise<void>)[] = [];
  const services: (() => Promise<void>)[] = [() => attempts.close(), async () => mailer.close()];
  services.push(purgeGuestsEvery(config.guestPurgeIntervalMs, domain, log));

  // One limiter per process, shared by REST and WebSocket frames; in Redis when scaled out.
  const limiter = await createTenantLimiter({ redisUrl: config.redisUrl, prefix: config.redisPrefix, log: log.child({ part: 'ratelimit' }) });
  services.push(() => limiter.close());
  // Tickets live in Redis when scaled out, so a ticket from any API node opens any WS node.
  const tickets = await createTicketStore({ redisUrl: config.redisUrl, prefix: config.redisPrefix });
  services.push(() => tickets.close());

  const outbox = startOutbox(config, db, bus, log, opts.outbox);
  services.push(() => outbox.close());

  // Presence is shared by the WS node (which writes it) and REST (which reads snapshots).
  presence = await createPresence(config, log, opts.wsNode);
  const registry = presence;
  services.push(() => registry.close());

  let closed: Promise<void> | undefined;
  const close = () => (closed ??= (async () => {
    const step = (fn: () => Promise<void>) => fn().catch((err) => log.warn({ err }, 'close step failed'));
    await Promise.all(frontDoors.map(step));
    await Promise.all(services.map(step));
    await bus.close();
    unwatchBatches();
    await closeDatabase(db);
  })());

  let wsPort = 0;
  let wsNode: WsNode | undefined;
  let httpPort = 0;
  try {
    if (opts.ws !== false) {
      wsNode = await startWsNode({ config, domain, bus, log: log.child({ part: 'ws' }), tickets, limiter, presence, observer: wsObserver(metrics), ...opts.wsNode });
      wsPort = wsNode.port;
      const node = wsNode;
      sources.wsSendAdmission = () => node.sendAdmission();
      frontDoors.push(() => node.shutdown());
    }
    if (opts.http !== false) {
      const server = http.createServer((await createRestApp(config, { domain, log, limiter, metrics, tickets, bus, presence, wsPort: wsPort || config.wsPort })).callback());
      server.keepAliveTimeout = 65_000;
      answerClientErrors(server);
      httpPort = await listen(server, config.httpPort, config.host);
      frontDoors.push(() => closeHttp(server));
    }
  } catch (err) {
    await close(); // a busy port: release what is already open, so the process can exit with the message
    throw err;
  }

  return { httpPort, wsPort, wsNode, outbox, domain, limiter, metrics, parts: { db, bus }, log, close };
}

/** Delivers webhooks from the outbox; woken by bus events that may have left a row (outbox/wake.ts), else polling. */
function startOutbox(config: Config, db: Knex, bus: Bus, log: Logger, o: StartOptions['outbox'] = {}): OutboxWorker {
  const worker = createOutboxWorker({
    db, log: log.child({ part: 'outbox' }), timeoutMs: config.webhookTimeoutMs, allowPrivate: config.webhookAllowPrivate,
    leaseMs: config.webhookLeaseMs, pollMs: config.webhookPollMs, concurrency: config.webhookConcurrency,
    now: o.now, random: o.random, onAttempt: o.onAttempt,
  });
  const unsubscribe = bus.subscribe((evt, local) => {
    if (wakesOutboxWorker(evt, local)) worker.wake();
  });
  if (config.outboxWorker && o.autostart !== false) worker.start();
  return { ...worker, close: async () => { unsubscribe(); await worker.stop(); } };
}

/** Expired guests are deleted (with their tokens; their sessions end) on a timer. Returns the stop step. */
function purgeGuestsEvery(ms: number, domain: Domain, log: Logger): () => Promise<void> {
  const timer = setInterval(() => {
    domain.accounts.purgeExpiredGuests().catch((err) => log.warn({ err }, 'guest purge failed'));
  }, ms);
  timer.unref();
  return async () => clearInterval(timer);
}

interface RestParts {
  domain: Domain;
  log: Logger;
  limiter: TenantLimiter;
  metrics: Metrics;
  tickets: TicketStore;
  bus: Bus;
  presence: PresenceRegistry;
  /** Where browsers reach the WebSocket node (the pages at /embed.html and /playground). */
  wsPort: number;
}

function createPresence(config: Config, log: Logger, ws: StartOptions['wsNode'] = {}): Promise<PresenceRegistry> {
  if (!config.redisUrl) return Promise.resolve(createMemoryPresence());
  return createRedisPresence({
    url: config.redisUrl, prefix: config.redisPrefix, log: log.child({ part: 'presence' }),
    heartbeatMs: ws.presenceHeartbeatMs, ttlMs: ws.presenceTtlMs,
  });
}

async function createRestApp(config: Config, p: RestParts) {
  const defaults = { rateLimitPerSecond: config.rateLimitPerSecond, rateLimitBurst: config.rateLimitBurst };
  const { app } = await createHttpApp({
    config,
    domain: p.domain,
    log: p.log.child({ part: 'http' }),
    startedAt: Date.now(),
    version: VERSION,
    limiter: p.limiter,
    metrics: p.metrics,
    tickets: p.tickets,
    presence: p.presence,
    bus: p.bus,
    wsPort: p.wsPort,
    rateLimit: rateLimitMiddleware(p.limiter, resolveFromAuthState(defaults), {
      exempt: (ctx) => ctx.method === 'GET' && ctx.path === '/v1/rate-limit',
    }),
    readiness: () => ({
      rate_limiter: p.limiter.degraded()
        ? { ok: false, detail: 'Redis unreachable: limiting per node' }
        : { ok: true, detail: p.limiter.mode() },
      bus: p.bus.mode() === 'redis-degraded'
        ? { ok: false, detail: 'Redis unreachable: events reach this node only' }
        : { ok: true, detail: p.bus.mode() },
    }),
  });
  return app;
}

/**
 * The WebSocket node (`/v1/ws`, uWebSockets.js): handshake, frame dispatch, fan-out from the bus,
 * presence, typing, backpressure and graceful shutdown. Protocol: spec/asyncapi.yaml.
 *
 *   const node = await startWsNode({ config, domain, bus, log, tickets, limiter });
 *   node.port; await node.shutdown();  // SIGTERM: drain within config.shutdownTimeoutMs
 */
import { EventEmitter } from 'node:events';
import type { TemplatedApp, us_listen_socket, WebSocket } from 'uWebSockets.js';
import type { Bus } from '../bus/index.ts';
import { createMemoryPresence, createRedisPresence, type PresenceRegistry } from '../bus/presence.ts';
import type { Config } from '../config.ts';
import type { Domain } from '../domain/index.ts';
import type { Logger } from '../log.ts';
import { CloseCode, CloseReason } from './close-codes.ts';
import { type Conn, type ConnData, clearConnTimers, newConnectionId } from './conn.ts';
import type { FrameLimiter, WsContext } from './context.ts';
import { onText, sendError } from './dispatch.ts';
import { onBusEvent } from './events.ts';
import { encode } from './frames.ts';
import { upgradeHandler } from './handshake.ts';
import { LocalPresence } from './presence.ts';
import { PresenceFanout } from './presence-fanout.ts';
import { noObserver, type WsObserver } from './observer.ts';
import { RoomMap } from './room-map.ts';
import { Router } from './router.ts';
import { authenticateUpgrade } from './session.ts';
import { SendAdmission } from './send-admission.ts';
import { SessionReads } from './session-reads.ts';
import type { TicketStore } from './tickets.ts';
import { Typing } from './typing.ts';
import { loadUws } from './uws.ts';
import { acceptOf, trace, traced, tracing, uwsCallback } from './trace.ts';
import { drain } from './shutdown.ts';

export interface WsNodeOptions {
  config: Config;
  domain: Domain;
  bus: Bus;
  log: Logger;
  /** Shared with the REST handler createRealtimeTicket; without it `?ticket=` is refused. */
  tickets?: TicketStore;
  /** Per-tenant frame rate limit (src/ratelimit's TenantLimiter fits). */
  limiter?: FrameLimiter;
  /** Presence registry; default: Redis when config.redisUrl is set, else this process only. */
  presence?: PresenceRegistry;
  /** Redis presence heartbeat and node TTL (defaults 2000 / 10000 ms). */
  presenceHeartbeatMs?: number;
  presenceTtlMs?: number;
  /** How long after `connected` the node waits for `resume` (default 1000 ms). */
  resumeWaitMs?: number;
  /** Receives connection, frame and delivery counts (src/metrics.ts); default: nobody. */
  observer?: WsObserver;
  /** How long a seq gap in a room's live stream waits before it is filled from the database (default 500 ms). */
  gapMs?: number;
  /**
   * How long such a gap may stay open for a message this process committed and has not yet
   * announced (a pipelined send waiting to be acked first; default 10 s): then it is filled too.
   */
  unannouncedMaxWaitMs?: number;
  /** How long a connection's handoff from replay to live waits for the bus to catch up (default 2000 ms). */
  handoffTimeoutMs?: number;
}

/** What a node reports as it runs (for metrics, logs and tests). */
export interface WsNodeEvents {
  open: [{ connection_id: string }];
  close: [{ connection_id: string; code: number; user_id?: string }];
}

export interface WsNode {
  port: number;
  events: EventEmitter<WsNodeEvents>;
  /** Connections open right now. */
  connections(): number;
  /** WebSocket sends submitted and not yet answered, and connections waiting to submit theirs (send-admission.ts). */
  sendAdmission(): { admitted: number; waiting: number };
  /** Graceful: stop accepting, `server.shutdown`, finish in-flight frames, close with 4012. */
  shutdown(): Promise<void>;
  /** Immediate: close every connection with 1001 and release everything. */
  close(): Promise<void>;
}

export async function startWsNode(opts: WsNodeOptions): Promise<WsNode> {
  const uws = loadUws(); // refuses the JS fallback
  const { config, log } = opts;
  const registry = opts.presence ?? (await createRegistry(opts));
  const app = uws.App();
  const headroom = backpressureHeadroom(config);
  const observer = opts.observer ?? noObserver;
  const router = new Router(app, {
    observer,
    maxBackpressureBytes: config.wsMaxBackpressureBytes,
    checkEveryBytes: Math.floor(headroom / 2),
    drainTimeoutMs: 30_000,
    maxHeld: Math.max(10_000, config.replayLimit * 2),
    handoffTimeoutMs: opts.handoffTimeoutMs ?? 2000,
    gapMs: opts.gapMs ?? 500,
    unannounced: opts.bus.unannounced,
    unannouncedMaxWaitMs: opts.unannouncedMaxWaitMs ?? 10_000,
    loadMessages: async (conn, roomId, afterSeq, limit) => (await opts.domain.messages.list(conn.caller!, roomId, { after_seq: afterSeq, limit })).items,
  });
  const ctx: WsContext = {
    config, domain: opts.domain, bus: opts.bus, log, router, observer,
    presence: new LocalPresence({ registry, bus: opts.bus, domain: opts.domain, log, graceMs: config.presenceGraceMs }),
    presenceFanout: new PresenceFanout(router, {
      coalesceMs: config.presenceCoalesceMs, batchAbove: config.presenceBatchAbove, summaryAbove: config.presenceSummaryAbove,
    }),
    typing: new Typing(opts.bus, config.typingTtlMs),
    tickets: opts.tickets, limiter: opts.limiter,
    sync: { domain: opts.domain, router, log, replayLimit: config.replayLimit, observer },
    reads: new SessionReads(opts.domain),
    admission: new SendAdmission(config.wsSendAdmission),
    resumeWaitMs: opts.resumeWaitMs ?? 1000,
    draining: false,
  };
  const conns = new Set<Conn>();
  ctx.conns = conns;
  const events = new EventEmitter<WsNodeEvents>();
  mountRoutes(app, ctx, conns, events);
  const release = async () => {
    ctx.typing.close();
    ctx.presenceFanout.close();
    await ctx.presence.close();
    if (!opts.presence) await registry.close();
    (app as TemplatedApp & { close?: () => void }).close?.();
  };
  const listenSocket = await listen(app, config.host, config.wsPort).catch(async (err: unknown) => {
    await release();
    throw err;
  });
  const unsubscribe = opts.bus.subscribe((evt) => onBusEvent(ctx, evt));
  const unwatchGaps = opts.bus.onGap(() => router.catchUp());
  const port = uws.us_socket_local_port(listenSocket);
  log.info({ port }, 'ws: listening on /v1/ws');

  let stopped: Promise<void> | undefined;
  const stop = (graceful: boolean) => (stopped ??= (async () => {
    ctx.draining = true;
    uws.us_listen_socket_close(listenSocket);
    if (graceful) await drain(ctx, conns, config.shutdownTimeoutMs);
    for (const conn of [...conns]) router.kick(conn, graceful ? CloseCode.SERVER_SHUTDOWN : CloseCode.GOING_AWAY);
    unsubscribe();
    unwatchGaps();
    await release();
  })());
  return {
    port, events, connections: () => conns.size, shutdown: () => stop(true), close: () => stop(false),
    sendAdmission: () => ({ admitted: ctx.admission.inUse, waiting: ctx.admission.waiting }),
  };
}

function mountRoutes(app: TemplatedApp, ctx: WsContext, conns: Set<Conn>, events: EventEmitter<WsNodeEvents>): void {
  const { config } = ctx;
  app.ws<ConnData>('/v1/ws', {
    maxPayloadLength: hardPayloadLimit(config),
    // Hard cap behind our own slow-consumer check (router): uWS would otherwise silently skip frames.
    maxBackpressure: config.wsMaxBackpressureBytes + backpressureHeadroom(config),
    closeOnBackpressureLimit: 1,
    idleTimeout: 120,
    sendPingsAutomatically: true,
    upgrade: traced('upgrade', (_res, req) => acceptOf(req.getHeader('sec-websocket-key')), upgradeHandler(ctx)),
    drain: traced('drain', (ws) => ws.getUserData().key, (ws: WebSocket<ConnData>) => ctx.router.onDrain(ws.getUserData().conn!)),
    open: (ws) => onOpen(ctx, conns, ws, events),
    message: traced('message', (ws) => ws.getUserData().key, (ws: WebSocket<ConnData>, message: ArrayBuffer, isBinary: boolean) => {
      const conn = ws.getUserData().conn!;
      if (message.byteLength > config.wsMaxPayloadBytes) return ctx.router.kick(conn, CloseCode.TOO_BIG);
      if (isBinary) return sendError(ctx, conn, { code: 'VALIDATION_ERROR', message: 'Frames are JSON text; binary frames are not accepted' });
      onText(ctx, conn, Buffer.from(message).toString('utf8'));
    }),
    close: (ws, code) => {
      const conn = ws.getUserData().conn!;
      if (tracing) {
        trace('server', 'close', {
          key: conn.key, conn: conn.id, code, phase: conn.phase, user: conn.user?.id, connected_sent: Boolean(conn.connectedSent),
          during_upgrade_of: uwsCallback.upgrading || undefined, ...(code === 1006 ? { stack: new Error().stack } : {}),
        });
        // (uWS has already invalidated `ws` here: even getBufferedAmount() throws.)
      }
      ctx.log.debug({ conn: conn.id, code, phase: conn.phase, user: conn.user?.id }, 'ws: closed');
      ctx.observer.closed(code);
      onClose(ctx, conns, conn);
      events.emit('close', { connection_id: conn.id, code, user_id: conn.user?.id });
    },
  });
  // For load balancers in front of WebSocket nodes: 503 while draining or cut off from the bus.
  app.get('/health', (res) => {
    const bus = ctx.bus.mode();
    const ok = !ctx.draining && bus !== 'redis-degraded';
    const data = { status: ok ? 'ok' : ctx.draining ? 'draining' : 'degraded', connections: conns.size, bus };
    res.writeStatus(ok ? '200 OK' : '503 Service Unavailable').writeHeader('Content-Type', 'application/json')
      .end(JSON.stringify({ success: ok, data, error: ok ? null : { code: 'SERVICE_UNAVAILABLE', message: `WebSocket node ${data.status}`, details: [], request_id: newConnectionId() } }));
  });
  app.any('/*', (res) => {
    res.writeStatus('404 Not Found').writeHeader('Content-Type', 'application/json')
      .end(JSON.stringify({ success: false, data: null, error: { code: 'NOT_FOUND', message: 'The WebSocket endpoint is /v1/ws', details: [], request_id: newConnectionId() } }));
  });
}

function onOpen(ctx: WsContext, conns: Set<Conn>, ws: WebSocket<ConnData>, events: EventEmitter<WsNodeEvents>): void {
  const data = ws.getUserData();
  const presented = data.presented!;
  data.presented = undefined;
  // Every field from the start (see Conn): later assignments then stay inside the object.
  const conn: Conn = {
    id: newConnectionId(), phase: 'connecting', ws, origin: presented.origin || undefined, ip: presented.ip, embedOrigin: presented.embedOrigin || undefined,
    tenant: undefined, user: undefined, caller: undefined, cred: undefined,
    rooms: new RoomMap(), queue: undefined, chain: undefined, backlog: undefined, pipeline: undefined, syncStarted: false, timers: undefined, counted: false, drainWaiters: undefined, acks: undefined,
    inFlight: 0, pendingChars: 0, key: data.key, connectedSent: false,
  };
  trace('server', 'open', { key: conn.key, conn: conn.id });
  ctx.observer.opened();
  data.conn = conn;
  conns.add(conn);
  events.emit('open', { connection_id: conn.id }); // before anything that may close the socket
  void authenticateUpgrade(ctx, conn, presented);
}

function onClose(ctx: WsContext, conns: Set<Conn>, conn: Conn): void {
  conn.phase = 'closed';
  conns.delete(conn);
  clearConnTimers(conn);
  const waiters = conn.drainWaiters;
  conn.drainWaiters = undefined;
  if (waiters) for (const wake of waiters) wake(); // paced replays see the close and stop
  if (conn.counted) ctx.presence.disconnected({ tenant_id: conn.tenant!.id, user_id: conn.user!.id });
  if (conn.user) ctx.typing.stopAll(conn);
  ctx.router.forget(conn);
}

/**
 * uWS cuts a frame larger than its maxPayloadLength off without a close frame (the client sees 1006),
 * so its limit sits well above ours: frames up to WS_MAX_PAYLOAD_BYTES + 1 MiB are read and refused
 * with 1009 (spec/asyncapi.yaml); only larger ones are cut off.
 */
export const hardPayloadLimit = (config: Config): number => config.wsMaxPayloadBytes + 1024 * 1024;

/** Room between our slow-consumer limit and uWS's hard cap (where uWS would cut the socket without a close code). */
function backpressureHeadroom(config: Config): number {
  return config.wsMaxBackpressureBytes + Math.max(config.wsMaxPayloadBytes * 4, 256 * 1024);
}

/** uSockets' listen option: no SO_REUSEPORT, so a port another process holds is an error (design.md). */
const LIBUS_LISTEN_EXCLUSIVE_PORT = 1;
type ListenWithOptions = (host: string, port: number, options: number, cb: (socket: us_listen_socket | false) => void) => TemplatedApp;

/**
 * Listens exclusively: by default uWS sets SO_REUSEPORT, so a second process started with the same
 * WS_PORT would listen too and the kernel would split connections (and live deliveries) between them.
 */
function listen(app: TemplatedApp, host: string, port: number): Promise<us_listen_socket> {
  return new Promise((resolve, reject) => {
    (app.listen as unknown as ListenWithOptions)(host, port, LIBUS_LISTEN_EXCLUSIVE_PORT, (socket) => {
      if (socket) return resolve(socket);
      reject(new WsPortBusy(`WS_PORT ${port} on ${host} is not available: another process is listening there (or the address is not this machine's). ` +
        'Stop that process or set WS_PORT to a free port.'));
    });
  });
}

export class WsPortBusy extends Error {}

async function createRegistry(opts: WsNodeOptions): Promise<PresenceRegistry> {
  if (!opts.config.redisUrl) return createMemoryPresence();
  return createRedisPresence({
    url: opts.config.redisUrl, prefix: opts.config.redisPrefix, log: opts.log,
    heartbeatMs: opts.presenceHeartbeatMs, ttlMs: opts.presenceTtlMs,
  });
}

export { CloseCode, CloseReason, encode };

/**
 * Prometheus metrics (prom-client), one registry per process, exposed at GET /metrics for ops.
 * Labels never carry tenant or user ids: cardinality stays bounded and nothing identifying leaks.
 */
import { performance } from 'node:perf_hooks';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { WsObserver } from './ws/observer.ts';

export interface Metrics {
  registry: Registry;
  httpRequests: Counter<'operation' | 'status'>;
  httpDuration: Histogram<'operation'>;
  rateLimited: Counter<'transport'>;
  ws: {
    open: Gauge;
    connects: Counter;
    closes: Counter<'code'>;
    framesIn: Counter<'type'>;
    deliveries: Counter;
    slowConsumerKicks: Counter;
    replayed: Counter;
    gaps: Counter<'outcome'>;
    /** The per-frame counts, kept as plain numbers until a scrape adds them to framesIn and deliveries. */
    pending: PendingCounts;
  };
  sendBatchSize: Histogram;
  sendCommitSeconds: Histogram;
  sendBatchesOverlapped: Counter;
  sendsWaiting: Gauge;
  wsSendsAdmitted: Gauge;
  wsSendAdmissionWaiting: Gauge;
  walPages: Gauge;
  walRestarts: Counter;
  eventLoopActive: Counter;
}

export interface MetricSources {
  /** Sends queued behind the send batch committing now (read when /metrics is scraped). */
  sendsWaiting?: () => number;
  /** The WebSocket node's send admission (ws/send-admission.ts), once the node runs (read when scraped). */
  wsSendAdmission?: () => { admitted: number; waiting: number };
  /** SQLite's WAL as its checkpoint worker last saw it (store/wal-sync.ts); undefined on MySQL or in memory (read when scraped). */
  sqliteWal?: () => { pages: number; restarts: number } | undefined;
}

/**
 * Counts taken once or more per frame on the WebSocket node (frames in by type, deliveries): a
 * prom-client `inc` hashes its labels and checks its value on every call, so the node adds plain
 * numbers here and each counter takes them in when /metrics is scraped (its `collect`).
 */
export class PendingCounts {
  readonly frames = new Map<string, number>();
  deliveries = 0;

  frame(type: string): void {
    this.frames.set(type, (this.frames.get(type) ?? 0) + 1);
  }
}

export function createMetrics(sources: MetricSources = {}): Metrics {
  const registry = new Registry();
  let restartsCounted = 0;
  let activeCounted = 0;
  registry.setDefaultLabels({ service: 'chatapi' });
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    httpRequests: new Counter({
      name: 'chatapi_http_requests_total',
      help: 'REST requests by operationId (or "unrouted") and status code',
      labelNames: ['operation', 'status'],
      registers: [registry],
    }),
    httpDuration: new Histogram({
      name: 'chatapi_http_request_duration_seconds',
      help: 'REST request duration by operationId',
      labelNames: ['operation'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    rateLimited: new Counter({
      name: 'chatapi_rate_limited_total',
      help: 'Requests and frames refused by the tenant rate limit',
      labelNames: ['transport'],
      registers: [registry],
    }),
    ws: wsMetrics(registry),
    sendBatchSize: new Histogram({
      name: 'chatapi_send_batch_size',
      help: 'Message sends stored per group-commit transaction',
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256],
      registers: [registry],
    }),
    sendCommitSeconds: new Histogram({
      name: 'chatapi_send_commit_seconds',
      help: 'Time a group-commit transaction of sends took, BEGIN to COMMIT',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers: [registry],
    }),
    sendBatchesOverlapped: new Counter({
      name: 'chatapi_send_batches_overlapped_total',
      help: 'Send batches written while the batch before them waited for its WAL sync (SQLite: the send queue held a full batch)',
      registers: [registry],
    }),
    sendsWaiting: new Gauge({
      name: 'chatapi_send_queue_depth',
      help: 'Message sends queued behind the group-commit transaction committing now',
      registers: [registry],
      collect() {
        if (sources.sendsWaiting) this.set(sources.sendsWaiting());
      },
    }),
    wsSendsAdmitted: new Gauge({
      name: 'chatapi_ws_sends_admitted',
      help: 'WebSocket sends submitted to the durable send path and not yet answered (at most WS_SEND_ADMISSION, beyond it by one connection\'s frames)',
      registers: [registry],
      collect() {
        if (sources.wsSendAdmission) this.set(sources.wsSendAdmission().admitted);
      },
    }),
    wsSendAdmissionWaiting: new Gauge({
      name: 'chatapi_ws_send_admission_waiting',
      help: 'WebSocket connections whose sends wait for WS_SEND_ADMISSION places',
      registers: [registry],
      collect() {
        if (sources.wsSendAdmission) this.set(sources.wsSendAdmission().waiting);
      },
    }),
    walPages: new Gauge({
      name: 'chatapi_sqlite_wal_pages',
      help: 'Pages in SQLite\'s WAL when its checkpoint worker last ran (SQLITE_SYNCHRONOUS=FULL): the send path restarts the WAL from about 4,096',
      registers: [registry],
      collect() {
        const wal = sources.sqliteWal?.();
        if (wal) this.set(wal.pages);
      },
    }),
    walRestarts: new Counter({
      name: 'chatapi_sqlite_wal_restarts_total',
      help: 'Times a send batch waited for a checkpoint to the WAL\'s end so that it restarts the WAL (SQLite, sustained sends)',
      registers: [registry],
      collect() {
        const restarts = sources.sqliteWal?.()?.restarts ?? 0;
        if (restarts > restartsCounted) this.inc(restarts - restartsCounted);
        restartsCounted = Math.max(restartsCounted, restarts);
      },
    }),
    eventLoopActive: new Counter({
      name: 'chatapi_event_loop_active_seconds_total',
      help: 'Time the main thread spent outside its event loop\'s wait for I/O (libuv\'s own count, native socket work included): its rate is the share of one core the node\'s thread uses, 1 when saturated',
      registers: [registry],
      collect() {
        // Node's event-loop utilization: `active` counts everything but the poll's wait (a V8
        // profile, by contrast, shows uWS's native socket reads and writes as "(idle)").
        const active = performance.eventLoopUtilization().active / 1000;
        if (active > activeCounted) this.inc(active - activeCounted);
        activeCounted = Math.max(activeCounted, active);
      },
    }),
  };
}

function wsMetrics(registry: Registry): Metrics['ws'] {
  const registers = [registry];
  const pending = new PendingCounts();
  return {
    pending,
    open: new Gauge({ name: 'chatapi_ws_connections', help: 'Open WebSocket connections', registers }),
    connects: new Counter({ name: 'chatapi_ws_connects_total', help: 'WebSocket connections opened', registers }),
    closes: new Counter({ name: 'chatapi_ws_closes_total', help: 'WebSocket connections closed, by close code', labelNames: ['code'], registers }),
    framesIn: new Counter({
      name: 'chatapi_ws_frames_in_total', help: 'Frames received, by type ("invalid": did not parse or validate)', labelNames: ['type'], registers,
      collect() {
        for (const [type, n] of pending.frames) {
          if (n === 0) continue;
          this.inc({ type }, n);
          pending.frames.set(type, 0);
        }
      },
    }),
    deliveries: new Counter({
      name: 'chatapi_ws_deliveries_total', help: 'Frames sent: direct sends plus one per live subscriber of each publish', registers,
      collect() {
        if (pending.deliveries === 0) return;
        this.inc(pending.deliveries);
        pending.deliveries = 0;
      },
    }),
    slowConsumerKicks: new Counter({ name: 'chatapi_ws_slow_consumer_kicks_total', help: 'Connections closed with 4008 for reading too slowly', registers }),
    replayed: new Counter({ name: 'chatapi_ws_replayed_messages_total', help: 'Messages replayed to resuming connections', registers }),
    gaps: new Counter({
      name: 'chatapi_ws_seq_gaps_total',
      help: 'Seq gaps in a room\'s live stream still open after the gap wait, by outcome: filled (from the database), skipped (not stored), waiting (a send of this node not yet acknowledged)',
      labelNames: ['outcome'], registers,
    }),
  };
}

/** The WebSocket node's reports, as metrics. */
export function wsObserver(metrics: Metrics): WsObserver {
  const { ws } = metrics;
  return {
    opened: () => { ws.open.inc(); ws.connects.inc(); },
    closed: (code) => { ws.open.dec(); ws.closes.inc({ code: String(code) }); },
    frameIn: (type) => ws.pending.frame(type),
    delivered: (n) => { ws.pending.deliveries += n; },
    slowConsumerKicked: () => ws.slowConsumerKicks.inc(),
    rateLimited: () => metrics.rateLimited.inc({ transport: 'ws' }),
    replayed: (n) => ws.replayed.inc(n),
    gap: (outcome) => ws.gaps.inc({ outcome }),
  };
}

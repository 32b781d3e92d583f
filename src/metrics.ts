/**
 * Prometheus metrics (prom-client), one registry per process, exposed at GET /metrics for ops.
 * Labels never carry tenant or user ids: cardinality stays bounded and nothing identifying leaks.
 */
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface Metrics {
  registry: Registry;
  httpRequests: Counter<'operation' | 'status'>;
  httpDuration: Histogram<'operation'>;
  rateLimited: Counter<'transport'>;
}

export function createMetrics(): Metrics {
  const registry = new Registry();
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
  };
}

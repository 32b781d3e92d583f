/**
 * GET /metrics (Prometheus text, outside the JSON API like /docs) counts REST requests by
 * operationId and status — including those refused before routing — without tenant labels.
 */
import { describe, before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import { backends } from '../helpers/backends.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const [backend] = backends();

describe(`metrics [${backend.name}]`, () => {
  let s: TestServer;
  before(async () => { s = await startTestServer(backend, { rateLimitPerSecond: 1, rateLimitBurst: 2 }, { ws: false }); });
  after(() => s.close());

  test('requests are counted per operation and status, refusals included', async () => {
    const t = await s.tenant();
    await t.client.POST('/v1/users', { body: { id: 'alice', username: 'alice' } });
    // Burst 2, 1/s: the bucket runs dry within a few calls however slow the machine is; count what happened.
    const statuses: number[] = [];
    while (!statuses.includes(429)) {
      assert.ok(statuses.length < 50, `never refused: ${statuses.join(',')}`);
      statuses.push((await t.client.GET('/v1/users', {})).response.status);
    }
    const ok = statuses.filter((x) => x === 200).length;
    await s.anonymous.GET('/v1/me', {});
    const res = await fetch(`${s.baseUrl}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /text\/plain/);
    const text = await res.text();
    const count = (labels: string) => {
      const line = text.split('\n').find((l) => l.startsWith('chatapi_http_requests_total{') && l.includes(labels));
      return line ? Number(line.split(' ').pop()) : 0;
    };
    assert.equal(count('operation="createUser",status="201"'), 1);
    assert.equal(count('operation="listUsers",status="200"'), ok);
    assert.equal(count('operation="listUsers",status="429"'), 1);
    assert.equal(count('operation="getMe",status="401"'), 1);
    assert.match(text, /chatapi_rate_limited_total\{[^}]*transport="http"[^}]*\} 1/);
    assert.match(text, /chatapi_http_request_duration_seconds_bucket/);
    assert.ok(!text.includes(t.id), 'no tenant ids in labels');
  });
});

describe('metrics: SQLite WAL figures', () => {
  test('the WAL gauge reads its source when scraped, and restarts count up by what the source adds', async () => {
    const { createMetrics } = await import('../../src/metrics.ts');
    let wal: { pages: number; restarts: number } | undefined = { pages: 1234, restarts: 3 };
    const m = createMetrics({ sqliteWal: () => wal });
    const read = async (name: string) => {
      const line = (await m.registry.metrics()).split('\n').find((l) => l.startsWith(`${name}{`));
      assert.ok(line, `${name} is exported`);
      return Number(line.split(' ').pop());
    };
    assert.equal(await read('chatapi_sqlite_wal_pages'), 1234);
    assert.equal(await read('chatapi_sqlite_wal_restarts_total'), 3);
    wal = { pages: 40, restarts: 5 };
    assert.equal(await read('chatapi_sqlite_wal_pages'), 40);
    assert.equal(await read('chatapi_sqlite_wal_restarts_total'), 5, 'counted once each, not again per scrape');
    assert.equal(await read('chatapi_sqlite_wal_restarts_total'), 5);
    wal = undefined; // MySQL: the gauge keeps no new reading and the counter does not move
    assert.equal(await read('chatapi_sqlite_wal_restarts_total'), 5);
  });
});

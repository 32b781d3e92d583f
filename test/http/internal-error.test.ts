/**
 * An unexpected failure answers 500 INTERNAL_ERROR in the envelope with the request id, never
 * the exception's text, and is logged with that same request id so ops can find it.
 */
import { describe, before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { backends } from '../helpers/backends.ts';
import { listenApp, startTestServer, type TestServer } from '../helpers/server.ts';
import { raw } from '../helpers/client.ts';
import { createHttpApp } from '../../src/http/app.ts';
import type { Domain } from '../../src/domain/index.ts';

const [backend] = backends();

describe(`internal errors [${backend.name}]`, () => {
  let s: TestServer;
  let served: Awaited<ReturnType<typeof listenApp>>;
  const logLines: string[] = [];
  before(async () => {
    s = await startTestServer(backend, {}, { ws: false });
    const domain = s.running.domain;
    // A domain whose room listing fails the way a driver bug would.
    const broken: Domain = {
      ...domain,
      rooms: { ...domain.rooms, list: async () => { throw new Error('SELECT * FROM rooms exploded at db.ts:42'); } },
    };
    const sink = new Writable({ write(chunk, _enc, cb) { logLines.push(String(chunk)); cb(); } });
    const { app } = await createHttpApp({ config: s.config, domain: broken, log: pino({ level: 'error' }, sink), startedAt: Date.now(), version: 'test' });
    served = await listenApp(app);
  });
  after(async () => {
    await served.close();
    await s.close();
  });

  test('500 INTERNAL_ERROR with the request id, nothing of the exception, logged with the id', async () => {
    const t = await s.tenant();
    await t.user('alice');
    const res = await raw(served.baseUrl, 'GET', '/v1/rooms', { headers: t.headers('alice') });
    assert.equal(res.status, 500);
    assert.equal(res.body.error.code, 'INTERNAL_ERROR');
    const requestId = res.headers.get('x-request-id')!;
    assert.equal(res.body.error.request_id, requestId);
    assert.doesNotMatch(JSON.stringify(res.body), /SELECT|exploded|db\.ts/);
    const logged = logLines.map((l) => JSON.parse(l)).find((l) => l.requestId === requestId);
    assert.ok(logged, 'the failure is logged with its request id');
    assert.match(logged.err.message, /exploded/);
  });
});

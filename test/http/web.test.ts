// The pages besides /docs: each references only this server, every asset it names is served, and
// the realtime client is served as an ES module that exports RealtimeClient.
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { describe, test, type TestContext } from 'node:test';
import Koa from 'koa';
import { webMiddleware } from '../../src/web/routes.ts';

async function start(t: TestContext): Promise<string> {
  const app = new Koa();
  app.use(webMiddleware({ wsPort: 8081 }));
  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const urlsIn = (html: string) => [...html.matchAll(/\b(?:src|href)\s*=\s*"([^"]*)"/g)].map((m) => m[1]!);

describe('web pages', () => {
  for (const page of ['/embed.html', '/playground', '/docs/asyncapi']) {
    test(`${page} names no other host and every asset it loads is served`, async (t) => {
      const base = await start(t);
      const res = await fetch(`${base}${page}`);
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type')!, /^text\/html/);
      const html = await res.text();
      assert.doesNotMatch(html, /(https?:)?\/\/[a-z0-9.-]+\.[a-z]{2,}/i, 'no other host');
      for (const ref of urlsIn(html).filter((u) => /\.(js|css)$/.test(u))) {
        const asset = await fetch(new URL(ref, `${base}${page}`));
        assert.equal(asset.status, 200, `${ref} is served`);
        assert.ok((await asset.arrayBuffer()).byteLength > 1000, `${ref} is not empty`);
      }
    });
  }

  test('/web/realtime.js is the realtime client as an ES module', async (t) => {
    const base = await start(t);
    const res = await fetch(`${base}/web/realtime.js`);
    assert.match(res.headers.get('content-type')!, /javascript/);
    const code = await res.text();
    assert.match(code, /export\{[^}]*RealtimeClient/);
    const again = await fetch(`${base}/web/realtime.js`, { headers: { 'if-none-match': res.headers.get('etag')! } });
    assert.equal(again.status, 304);
  });

  test('unknown paths fall through', async (t) => {
    const base = await start(t);
    assert.equal((await fetch(`${base}/web/../package.json`)).status, 404);
    assert.equal((await fetch(`${base}/docs/asyncapi/../../package.json`)).status, 404);
    assert.equal((await fetch(`${base}/web/nope.js`)).status, 404);
  });
});

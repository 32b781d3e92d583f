// /docs works offline: the page and its script reference only this server, the Swagger UI files
// are served from swagger-ui-dist, and the specs are served from generated/.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import Koa from 'koa';
import { parse } from 'yaml';
import { type DocsOptions, docsMiddleware } from '../../src/http/docs.ts';
import { webMiddleware } from '../../src/web/routes.ts';

async function start(t: TestContext, opts?: DocsOptions): Promise<string> {
  const app = new Koa();
  app.use(docsMiddleware(opts));
  app.use(webMiddleware({ wsPort: 0 })); // /docs/asyncapi, linked from /docs
  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** Every src= and href= value in an HTML page. */
const urlsIn = (html: string) => [...html.matchAll(/\b(?:src|href)\s*=\s*"([^"]*)"/g)].map((m) => m[1]!);

describe('docs', () => {
  test('/docs references only local assets, and each is served', async (t) => {
    const base = await start(t);
    const res = await fetch(`${base}/docs`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type')!, /^text\/html/);
    const html = await res.text();
    assert.doesNotMatch(html, /(https?:)?\/\/[a-z0-9.-]+\.[a-z]{2,}/i, 'the page must not name another host');
    const urls = urlsIn(html);
    assert.ok(urls.includes('docs/swagger-ui-bundle.js'), `the page loads Swagger UI locally: ${urls.join(' ')}`);
    for (const ref of urls) {
      const url = new URL(ref, `${base}/docs`);
      assert.equal(url.origin, base, `${ref} must resolve to this server`);
      if (!url.pathname.startsWith('/docs/')) continue; // the spec links: tested below
      const asset = await fetch(url);
      assert.equal(asset.status, 200, `${url.pathname} is served`);
      assert.ok((await asset.arrayBuffer()).byteLength > 0, `${url.pathname} is not empty`);
    }
    const bundle = await fetch(`${base}/docs/swagger-ui-bundle.js`);
    assert.match(bundle.headers.get('content-type')!, /javascript/);
    assert.ok((await bundle.text()).includes('SwaggerUIBundle'), 'the Swagger UI bundle itself');
  });

  test('the page points Swagger UI at /openapi.yaml and never at the online validator', async (t) => {
    const base = await start(t);
    const init = await (await fetch(`${base}/docs/init.js`)).text();
    assert.match(init, /url: 'openapi\.yaml'/);
    assert.match(init, /validatorUrl: null/);
    assert.doesNotMatch(init, /https?:\/\//);
    const spec = await fetch(new URL('openapi.yaml', `${base}/docs`));
    assert.equal(new URL(spec.url).pathname, '/openapi.yaml');
    assert.equal(spec.status, 200);
    assert.match(spec.headers.get('content-type')!, /^application\/yaml/);
    const doc = parse(await spec.text()) as { openapi: string; paths: object };
    assert.match(doc.openapi, /^3\.1\./);
    assert.ok(Object.keys(doc.paths).length > 0);
    assert.doesNotMatch(JSON.stringify(doc), /"\$ref":"\.{0,2}\//, 'the served spec is self-contained');
    const json = await fetch(`${base}/openapi.json`);
    assert.equal(json.status, 200);
    assert.deepEqual(await json.json(), doc);
  });

  test('/asyncapi.yaml is served from the generated bundle, and passes through when absent', async (t) => {
    const dir = await mkdtemp(path.join(tmpdir(), 'chatapi-docs-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const withSpec = await start(t, { generatedDir: dir });
    assert.equal((await fetch(`${withSpec}/asyncapi.yaml`)).status, 404, 'no bundle: not ours to answer');
    await writeFile(path.join(dir, 'asyncapi.bundle.yaml'), 'asyncapi: 3.0.0\n');
    const res = await fetch(`${withSpec}/asyncapi.yaml`);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'asyncapi: 3.0.0\n');
  });

  test('only the listed files are served, only for GET and HEAD; ETags allow revalidation', async (t) => {
    const base = await start(t);
    for (const p of ['/docs/index.html', '/docs/package.json', '/docs/..%2fpackage.json', '/docs/swagger-initializer.js']) {
      assert.equal((await fetch(`${base}${p}`)).status, 404, p);
    }
    assert.equal((await fetch(`${base}/docs`, { method: 'POST' })).status, 404);
    const head = await fetch(`${base}/docs/swagger-ui.css`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    const etag = head.headers.get('etag')!;
    assert.ok(etag);
    const again = await fetch(`${base}/docs/swagger-ui.css`, { headers: { 'if-none-match': etag } });
    assert.equal(again.status, 304);
    const slash = await fetch(`${base}/docs/`, { redirect: 'manual' });
    assert.equal(slash.status, 301);
    assert.equal(new URL(slash.headers.get('location')!, `${base}/docs/`).pathname, '/docs');
  });
});

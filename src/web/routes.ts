/**
 * The pages the service serves besides /docs: /embed.html (the widget), /docs/asyncapi (the
 * WebSocket reference, rendered offline by @asyncapi/react-component's standalone bundle) and the
 * esbuild bundles under /web/ (realtime.js is the realtime client as an ES module). Fixed paths
 * only: no request path ever reaches the file system.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Middleware } from 'koa';
import { buildWebAssets } from './build.ts';
import { asyncapiPage, embedPage } from './pages.ts';
import { playgroundPage } from './playground-page.ts';

const JS = 'text/javascript; charset=utf-8';
const HTML = 'text/html; charset=utf-8';
const CSS = 'text/css; charset=utf-8';

interface Served { body: Buffer | string; type: string }

const reactDir = () => path.dirname(createRequire(import.meta.url).resolve('@asyncapi/react-component/package.json'));

/** Files of @asyncapi/react-component served under /docs/asyncapi/. */
const ASYNCAPI_FILES: Record<string, [string, string]> = {
  'standalone.js': ['browser/standalone/index.js', JS],
  'default.min.css': ['styles/default.min.css', CSS],
};

export function webMiddleware(opts: { wsPort: number }): Middleware {
  let bundles: Promise<Map<string, Buffer>> | undefined;
  const cache = new Map<string, Served>();

  async function serve(urlPath: string): Promise<Served | undefined> {
    if (urlPath === '/embed.html') return { body: embedPage(opts.wsPort), type: HTML };
    if (urlPath === '/docs/asyncapi') return { body: asyncapiPage(), type: HTML };
    if (urlPath === '/playground') return { body: playgroundPage(opts.wsPort), type: HTML };
    if (urlPath.startsWith('/docs/asyncapi/')) {
      const file = ASYNCAPI_FILES[urlPath.slice('/docs/asyncapi/'.length)];
      if (!file) return undefined;
      return { body: await readFile(path.join(reactDir(), file[0])), type: file[1] };
    }
    if (urlPath.startsWith('/web/')) {
      bundles ??= buildWebAssets();
      const body = (await bundles).get(urlPath.slice('/web/'.length));
      return body && { body, type: JS };
    }
    return undefined;
  }

  return async (ctx, next) => {
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') return next();
    let hit = cache.get(ctx.path);
    if (!hit) {
      hit = await serve(ctx.path);
      if (!hit) return next();
      cache.set(ctx.path, hit);
    }
    const etag = `"${createHash('sha1').update(hit.body).digest('base64url')}"`;
    ctx.set({ 'cache-control': 'no-cache', etag, 'x-content-type-options': 'nosniff' });
    ctx.type = hit.type;
    if (ctx.get('if-none-match') === etag) return void (ctx.status = 304);
    ctx.status = 200;
    ctx.body = hit.body;
  };
}

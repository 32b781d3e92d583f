/**
 * The API reference at /docs and the specs at /openapi.yaml (+ .json) and /asyncapi.yaml
 * (design.md § Conventions, Paths). Works offline: Swagger UI's files come from the installed
 * swagger-ui-dist package and every URL in the page is relative to this server, no CDN.
 * The specs served are the self-contained bundles in generated/ (external $refs inlined), so
 * integrators can generate a client straight from the URL.
 *
 * `docsRoutes()` is framework-free (method + path → response); `docsMiddleware()` adapts it to Koa.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Middleware } from 'koa';
import { pageStart } from '../web/pages.ts';

export interface DocsResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer | string;
}

export type DocsRoutes = (method: string, urlPath: string, ifNoneMatch?: string) => Promise<DocsResponse | undefined>;

export interface DocsOptions {
  /** Directory holding openapi.bundle.{yaml,json} and asyncapi.bundle.yaml; default: the repo's generated/. */
  generatedDir?: string;
  /** Directory of the swagger-ui-dist package; default: resolved from node_modules. */
  swaggerUiDir?: string;
}

const YAML = 'application/yaml; charset=utf-8';
const JSON_TYPE = 'application/json; charset=utf-8';

/** Swagger UI files served under /docs/ (a fixed list: no path ever reaches the file system). */
const ASSETS: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'favicon-32x32.png': 'image/png',
  'favicon-16x16.png': 'image/png',
};

/** The specs: URL path → file in generated/. */
const SPECS: Record<string, [file: string, type: string]> = {
  '/openapi.yaml': ['openapi.bundle.yaml', YAML],
  '/openapi.json': ['openapi.bundle.json', JSON_TYPE],
  '/asyncapi.yaml': ['asyncapi.bundle.yaml', YAML],
  '/asyncapi.json': ['asyncapi.bundle.json', JSON_TYPE],
};

// Relative URLs: the page lives at /docs, so `docs/x` is /docs/x and `openapi.yaml` is /openapi.yaml,
// and both keep working behind a proxy that mounts the service under a prefix.
const PAGE = `${pageStart('chatapi API reference')}
  <link rel="stylesheet" href="docs/swagger-ui.css">
  <link rel="icon" type="image/png" href="docs/favicon-32x32.png" sizes="32x32">
  <link rel="icon" type="image/png" href="docs/favicon-16x16.png" sizes="16x16">
  <style>body { margin: 0; } .chatapi-specs { font: 14px sans-serif; padding: 8px 20px; background: #f3f4f6; }</style>
</head>
<body>
  <nav class="chatapi-specs" aria-label="API references">
    References: <strong>REST (OpenAPI)</strong> · <a href="docs/asyncapi">WebSocket (AsyncAPI)</a> ·
    specs: <a href="openapi.yaml">openapi.yaml</a> (REST, OpenAPI 3.1) ·
    <a href="asyncapi.yaml">asyncapi.yaml</a> (WebSocket <code>/v1/ws</code>, AsyncAPI 3)
  </nav>
  <div id="swagger-ui"></div>
  <script src="docs/swagger-ui-bundle.js"></script>
  <script src="docs/init.js"></script>
</body>
</html>
`;

// validatorUrl: null stops Swagger UI from sending the spec to validator.swagger.io.
const INIT = `window.ui = SwaggerUIBundle({
  url: 'openapi.yaml',
  dom_id: '#swagger-ui',
  deepLinking: true,
  validatorUrl: null,
  presets: [SwaggerUIBundle.presets.apis],
  layout: 'BaseLayout',
});
`;

const etagOf = (body: Buffer | string) => `"${createHash('sha1').update(body).digest('base64url')}"`;

function defaultGeneratedDir(): string {
  return fileURLToPath(new URL('../../generated/', import.meta.url));
}

function defaultSwaggerUiDir(): string {
  return path.dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
}

export function docsRoutes(opts: DocsOptions = {}): DocsRoutes {
  const generatedDir = opts.generatedDir ?? defaultGeneratedDir();
  const swaggerUiDir = opts.swaggerUiDir ?? defaultSwaggerUiDir();
  const assetCache = new Map<string, { body: Buffer; etag: string }>();

  async function asset(name: string): Promise<{ body: Buffer; etag: string }> {
    let hit = assetCache.get(name);
    if (!hit) {
      const body = await readFile(path.join(swaggerUiDir, name));
      hit = { body, etag: etagOf(body) };
      assetCache.set(name, hit);
    }
    return hit;
  }

  function reply(body: Buffer | string, type: string, cache: string, ifNoneMatch?: string, etag = etagOf(body)): DocsResponse {
    const headers = { 'content-type': type, 'cache-control': cache, etag, 'x-content-type-options': 'nosniff' };
    if (ifNoneMatch && ifNoneMatch.split(/\s*,\s*/).includes(etag)) return { status: 304, headers, body: '' };
    return { status: 200, headers, body };
  }

  return async (method, urlPath, ifNoneMatch) => {
    if (method !== 'GET' && method !== 'HEAD') return undefined;
    if (urlPath === '/docs') return reply(PAGE, 'text/html; charset=utf-8', 'no-cache', ifNoneMatch);
    if (urlPath === '/docs/') return { status: 301, headers: { location: '../docs' }, body: '' };
    if (urlPath === '/docs/init.js') return reply(INIT, 'text/javascript; charset=utf-8', 'no-cache', ifNoneMatch);
    if (urlPath.startsWith('/docs/')) {
      const name = urlPath.slice('/docs/'.length);
      const type = Object.hasOwn(ASSETS, name) ? ASSETS[name] : undefined;
      if (!type) return undefined;
      const { body, etag } = await asset(name);
      return reply(body, type, 'public, max-age=86400', ifNoneMatch, etag);
    }
    const spec = Object.hasOwn(SPECS, urlPath) ? SPECS[urlPath] : undefined;
    if (!spec) return undefined;
    // Read per request: small, and `make generate` on a running dev server shows up at once.
    const body = await readFile(path.join(generatedDir, spec[0])).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return undefined;
      throw err;
    });
    return body === undefined ? undefined : reply(body, spec[1], 'no-cache', ifNoneMatch);
  };
}

/** Koa adapter: answers the docs and spec paths, passes everything else on. */
export function docsMiddleware(opts: DocsOptions = {}): Middleware {
  const routes = docsRoutes(opts);
  return async (ctx, next) => {
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') return next(); // routes() answers nothing else
    const res = await routes(ctx.method, ctx.path, ctx.get('if-none-match') || undefined);
    if (!res) return next();
    ctx.status = res.status;
    ctx.set(res.headers);
    if (res.status === 200) ctx.body = res.body; // Koa drops the body itself for HEAD
  };
}

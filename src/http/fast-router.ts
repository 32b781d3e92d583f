/**
 * openapi-backend 5.x routes every request by rebuilding its operation list with lodash and
 * compiling one RegExp per path template (node_modules/openapi-backend/router.js
 * `matchOperation`). Our spec is fixed once the app starts, so this precomputes both and
 * installs an equivalent matcher: same normalisation, same exact-path-first rule, same
 * most-specific-template order, same 404/405 errors. The bench showed the contract layer going
 * from 0.22× to 0.48× bare Koa; test/http/fast-router.test.ts proves it routes like the original.
 */
import type { OpenAPIBackend, Operation } from 'openapi-backend';

interface RouterInternals {
  getOperations(): Operation[];
  matchOperation(req: unknown, strict?: boolean): Operation | undefined;
  normalizePath(path: string): string;
  isUnderApiRoot(path: string): boolean;
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const templatePattern = (path: string) => new RegExp(`^${path.replace(/\{[^}]+\}/g, '\0').split('\0').map(escape).join('[^/]+')}$`);

function slashes(path: string): number {
  let n = 0;
  for (let i = path.indexOf('/'); i >= 0; i = path.indexOf('/', i + 1)) n++;
  return n;
}

/** router.normalizeRequest's path and method, without copying the request (`{ ...req, path, method }` is slow in V8). */
function normalize(req: { path?: string; method: string }): { path: string; method: string } {
  let path = req.path?.trim() || '';
  if (!path.startsWith('/')) path = `/${path}`;
  path = path.split('?')[0];
  return { path, method: req.method.trim().toLowerCase() };
}

function fail(strict: boolean | undefined, message: string): undefined {
  if (strict) throw new Error(message);
  return undefined;
}

export function precompileRouter(api: OpenAPIBackend): void {
  const router = api.router as unknown as RouterInternals;
  const operations = router.getOperations();
  const exact = new Map<string, Operation[]>();
  for (const op of operations) exact.set(op.path, [...(exact.get(op.path) ?? []), op]);
  // Most specific first: the literal length of the template, as openapi-backend orders matches.
  // Like the original, every operation takes part (a literal path is a template without holes).
  const templates = operations
    .map((op) => ({ op, pattern: templatePattern(op.path), specificity: op.path.replace(/\{.*?\}/g, '').length }))
    .sort((a, b) => b.specificity - a.specificity);
  // A hole matches no '/', so a path can only match templates with as many slashes as it has:
  // grouped by that count (order kept), a request tests a handful of patterns instead of all.
  const bySlashes = new Map<number, typeof templates>();
  for (const t of templates) {
    const n = slashes(t.op.path);
    bySlashes.set(n, [...(bySlashes.get(n) ?? []), t]);
  }

  router.getOperations = () => operations;
  router.matchOperation = (req, strict) => {
    const request = normalize(req as { path?: string; method: string });
    if (!router.isUnderApiRoot(request.path)) return fail(strict, '404-notFound: no route matches request');
    const path = router.normalizePath(request.path);
    const byPath = exact.get(path)?.find((op) => op.method === request.method);
    if (byPath) return byPath;
    // the first matching template with this method; 405 if templates match but none has it
    let matched = false;
    for (const t of bySlashes.get(slashes(path)) ?? []) {
      if (!t.pattern.test(path)) continue;
      if (t.op.method === request.method) return t.op;
      matched = true;
    }
    return fail(strict, matched ? '405-methodNotAllowed: this method is not registered for the route' : '404-notFound: no route matches request');
  };
}

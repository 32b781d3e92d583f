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
  normalizeRequest(req: unknown): { path: string; method: string };
  normalizePath(path: string): string;
  isUnderApiRoot(path: string): boolean;
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const templatePattern = (path: string) => new RegExp(`^${path.replace(/\{[^}]+\}/g, '\0').split('\0').map(escape).join('[^/]+')}$`);

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

  router.getOperations = () => operations;
  router.matchOperation = (req, strict) => {
    const request = router.normalizeRequest(req);
    if (!router.isUnderApiRoot(request.path)) return fail(strict, '404-notFound: no route matches request');
    const path = router.normalizePath(request.path);
    const byPath = exact.get(path)?.find((op) => op.method === request.method);
    if (byPath) return byPath;
    const matching = templates.filter((t) => t.pattern.test(path));
    if (!matching.length) return fail(strict, '404-notFound: no route matches request');
    const hit = matching.find((t) => t.op.method === request.method);
    return hit ? hit.op : fail(strict, '405-methodNotAllowed: this method is not registered for the route');
  };
}

/**
 * openapi-backend 5.x parses every request three times (routing, after routing, validation:
 * node_modules/openapi-backend/router.js `parseRequest`), and each time it lowercases the headers
 * with lodash, builds a URLSearchParams it throws away, deep-clones the query with lodash,
 * compiles the operation's path template into a RegExp (bath-es5) and scans the operation's
 * parameters once per query key. The profile of a REST send put those three calls at ≈9% of the
 * node's CPU. This installs an equivalent parser: the same steps in the same order, with the
 * template matcher and the query parameters that need decoding worked out once per operation,
 * and the result built by assignment instead of object spreads (V8 in Node 20 takes a slow path
 * for properties that follow a spread: `{ ...req, path, method }` costs microseconds).
 * Requests of another shape than Koa gives (a string body, a query that is not a flat object of
 * strings) go to the original. test/http/fast-parse.test.ts compares both on many requests.
 */
import { createRequire } from 'node:module';
import type { OpenAPIBackend, Operation } from 'openapi-backend';

const fromBackend = createRequire(createRequire(import.meta.url).resolve('openapi-backend'));
const cookie = fromBackend('cookie') as { parse(str: string): Record<string, string | undefined> };
const bathParams = (fromBackend('bath-es5') as { params(template: string): (path: string) => Record<string, string> | null }).params;

type Query = Record<string, unknown>;
interface RawRequest { method: string; path: string; headers: Record<string, unknown>; query?: unknown; body?: unknown }
interface QueryParameter { content?: Record<string, unknown>; explode?: boolean; style?: string }

interface RouterInternals {
  parseRequest(req: RawRequest, operation?: Operation): unknown;
  normalizePath(path: string): string;
}

/** What parsing needs from an operation, computed on first use. */
interface Compiled {
  params: (path: string) => Record<string, string> | null;
  /** The first query parameter of each name, as `parameters.find` picks it, when it needs decoding. */
  decoded: Map<string, QueryParameter>;
}

function compile(operation: Operation): Compiled {
  const decoded = new Map<string, QueryParameter>();
  const seen = new Set<string>();
  for (const p of (operation.parameters ?? []) as (QueryParameter & { in?: string; name?: string; $ref?: string })[]) {
    if ('$ref' in p || p?.in !== 'query' || typeof p.name !== 'string' || seen.has(p.name)) continue;
    seen.add(p.name);
    if ((p.content && p.content['application/json']) || p.explode === false) decoded.set(p.name, p);
  }
  return { params: bathParams(operation.path), decoded };
}

/** A copy of a flat query (string or string[] values), or undefined when it is of another shape. */
function copyQuery(query: unknown): Query | undefined {
  if (typeof query !== 'object' || query === null) return undefined;
  const proto = Object.getPrototypeOf(query);
  if (proto !== Object.prototype && proto !== null) return undefined;
  if (Object.getOwnPropertySymbols(query).length) return undefined;
  const out: Query = {}; // as lodash's cloneDeep: a plain object, also for a null-prototype query
  for (const key of Object.keys(query)) {
    if (key === '__proto__') return undefined;
    const value = (query as Query)[key];
    if (typeof value === 'string') out[key] = value;
    else if (Array.isArray(value) && value.every((v) => typeof v === 'string')) out[key] = value.slice();
    else return undefined;
  }
  return out;
}

function lowerKeys(headers: Record<string, unknown>): Record<string, unknown> | undefined {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(headers)) {
    const lower = key.toLowerCase();
    if (lower === '__proto__') return undefined;
    out[lower] = headers[key];
  }
  return out;
}

/** The query decoding of router.js parseRequest, for one parameter (content JSON, or explode: false). */
function decodeParam(query: Query, name: string, parameter: QueryParameter): void {
  if (parameter.content && parameter.content['application/json']) {
    const rawValue = query[name];
    if (typeof rawValue === 'string') {
      try {
        query[name] = JSON.parse(rawValue);
      } catch {
        // left raw: validation reports it
      }
    }
    return;
  }
  const rawValue = query[name];
  if (Array.isArray(rawValue) && rawValue.length > 1) return;
  const value = Array.isArray(rawValue) ? rawValue[0] : rawValue;
  if (typeof value !== 'string') return;
  let text = value.replace(/%2C/g, ',');
  if (parameter.style === 'spaceDelimited') text = text.replace(/ /g, ',').replace(/%20/g, ',');
  if (parameter.style === 'pipeDelimited') text = text.replace(/\|/g, ',').replace(/%7C/g, ',');
  query[name] = text.split(',');
}

export function precompileParser(api: OpenAPIBackend): void {
  const router = api.router as unknown as RouterInternals;
  const original = router.parseRequest.bind(router);
  const compiled = new WeakMap<Operation, Compiled>();

  router.parseRequest = (req: RawRequest, operation?: Operation) => {
    const body = req.body;
    if ((body && typeof body !== 'object') || Object.hasOwn(req, '__proto__')) return original(req, operation);
    const query = copyQuery(req.query);
    const headers = lowerKeys(req.headers);
    if (!query || !headers) return original(req, operation);
    const cookieHeader = headers['cookie'];
    const cookies = cookie.parse([cookieHeader].flat().join('; '));
    // router.normalizeRequest, without its `{ ...req, path, method }`
    let path = req.path?.trim() || '';
    if (!path.startsWith('/')) path = `/${path}`;
    path = path.split('?')[0];
    const method = req.method.trim().toLowerCase();
    let params = {};
    if (operation) {
      let c = compiled.get(operation);
      if (!c) compiled.set(operation, (c = compile(operation)));
      params = c.params(router.normalizePath(path)) || {};
      if (c.decoded.size) {
        for (const name in query) {
          const parameter = query[name] ? c.decoded.get(name) : undefined;
          if (parameter) decodeParam(query, name, parameter);
        }
      }
    }
    // `{ ...req, path, method, params, headers, query, cookies, requestBody }`, built by assignment:
    // V8 (Node 20) takes a slow path for properties after a spread (≈1 µs each here).
    const out: Record<string, unknown> = Object.assign({}, req as unknown as Record<string, unknown>);
    out.path = path;
    out.method = method;
    out.params = params;
    out.headers = headers;
    out.query = query;
    out.cookies = cookies;
    out.requestBody = body;
    return out;
  };
}

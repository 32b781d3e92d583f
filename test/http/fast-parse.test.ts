/**
 * The precompiled request parser (src/http/fast-parse.ts) parses exactly like openapi-backend's
 * own: for every operation of the spec (and a small spec with JSON and non-exploded query
 * parameters), with and without the matched operation, requests with odd headers, cookies,
 * queries and bodies give deep-equal results (prototypes included), or the same error.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OpenAPIBackend, type Document, type Operation } from 'openapi-backend';
import { loadSpec } from '../../src/http/api.ts';
import { precompileParser } from '../../src/http/fast-parse.ts';

type Parse = (req: unknown, operation?: Operation) => unknown;

async function pair(definition: Document): Promise<{ original: OpenAPIBackend; fast: OpenAPIBackend }> {
  const make = async () => {
    const api = new OpenAPIBackend({ definition: structuredClone(definition), quick: true, validate: false });
    await api.init();
    return api;
  };
  const original = await make();
  const fast = await make();
  precompileParser(fast);
  return { original, fast };
}

function outcome(parse: Parse, req: unknown, operation?: Operation): unknown {
  try {
    return { ok: parse(structuredCloneKeepProto(req), operation) };
  } catch (err) {
    return { threw: (err as Error).message };
  }
}

/** A fresh copy per call (the parser must not depend on or change its input), prototypes kept. */
function structuredCloneKeepProto<T>(value: T): T {
  if (Array.isArray(value)) return value.map(structuredCloneKeepProto) as T;
  if (value && typeof value === 'object') {
    const out = Object.create(Object.getPrototypeOf(value));
    for (const key of Reflect.ownKeys(value)) {
      Object.defineProperty(out, key, { ...Object.getOwnPropertyDescriptor(value, key), value: structuredCloneKeepProto((value as Record<PropertyKey, unknown>)[key]) });
    }
    return out;
  }
  return value;
}

function queries(): unknown[] {
  const nullProto = Object.assign(Object.create(null), { limit: '5' });
  const protoKey = {};
  Object.defineProperty(protoKey, '__proto__', { value: 'x', enumerable: true, configurable: true, writable: true });
  return [
    undefined, {}, { limit: '10' }, { limit: ['1', '2'] }, { a: '', b: 'x' }, nullProto, protoKey,
    { ids: 'a,b%2Cc' }, { ids: ['a,b'] }, { ids: ['a', 'b'] }, { filter: '{"x":1}' }, { filter: '{bad' }, { filter: ['{"x":1}'] },
    { tags: 'a b' }, { pipes: 'a|b%7Cc' }, { n: 5 }, { deep: { x: '1' } }, null, 'limit=3',
  ];
}

const HEADERS: Record<string, unknown>[] = [
  {}, { 'content-type': 'application/json' }, { 'X-API-Key': 'k', 'x-user-id': 'u', Authorization: 'Bearer t' },
  { cookie: 'a=1; b=2' }, { Cookie: 'a=%20x; a=2' }, { cookie: ['a=1', 'b=2'] }, { 'Content-Type': 'text/plain', 'content-type': 'application/json' },
];
const BODIES: unknown[] = [undefined, null, { content: 'hi' }, [], '{"content":"hi"}', 'not json', Buffer.from('{"a":1}'), 0, ''];

/** Requests varying one part at a time (full: every combination of query, headers and body). */
function requests(full: boolean): { query: unknown; headers: Record<string, unknown>; body: unknown }[] {
  const base = { query: { limit: '10' }, headers: HEADERS[2], body: { content: 'hi' } };
  if (!full) {
    return [
      ...queries().map((query) => ({ ...base, query })),
      ...HEADERS.map((headers) => ({ ...base, headers })),
      ...BODIES.map((body) => ({ ...base, body })),
    ];
  }
  return queries().flatMap((query) => HEADERS.flatMap((headers) => BODIES.map((body) => ({ query, headers, body }))));
}

function compare(original: OpenAPIBackend, fast: OpenAPIBackend, path: string, method: string, opId: string | undefined, full = false) {
  const opOf = (api: OpenAPIBackend) => (opId ? api.router.getOperation(opId) : undefined);
  let compared = 0;
  for (const { query, headers, body } of requests(full)) {
    const req = { method, path, headers, query, body };
    for (const withOp of [false, true]) {
      const o = outcome(original.router.parseRequest.bind(original.router) as Parse, req, withOp ? opOf(original) : undefined);
      const f = outcome(fast.router.parseRequest.bind(fast.router) as Parse, req, withOp ? opOf(fast) : undefined);
      assert.deepStrictEqual(f, o, `${method} ${path} ${JSON.stringify({ query, headers, body, withOp })}`);
      compared++;
    }
  }
  return compared;
}

test('the precompiled parser gives what openapi-backend gives for every operation of the spec', async () => {
  const { original, fast } = await pair(loadSpec());
  let compared = 0;
  for (const [i, op] of original.router.getOperations().entries()) {
    const concrete = op.path.replace(/\{[^}]+\}/g, (_m, at) => (at % 2 ? 'room%20one' : 'abc-123'));
    for (const path of [concrete, `${concrete}/`, ` ${concrete}?x=1`]) compared += compare(original, fast, path, op.method.toUpperCase(), op.operationId, i === 0 && path === concrete);
  }
  assert.ok(compared > 5_000, `${compared}`);
});

test('the precompiled parser decodes JSON and non-exploded query parameters like openapi-backend', async () => {
  const definition = {
    openapi: '3.1.0',
    info: { title: 't', version: '1' },
    paths: {
      '/things/{id}': {
        parameters: [{ name: 'pipes', in: 'query', style: 'pipeDelimited', explode: false, schema: { type: 'array' } }],
        get: {
          operationId: 'getThing',
          parameters: [
            { name: 'ids', in: 'query', explode: false, schema: { type: 'array' } },
            { name: 'ids', in: 'query', content: { 'application/json': { schema: { type: 'object' } } } },
            { name: 'filter', in: 'query', content: { 'application/json': { schema: { type: 'object' } } } },
            { name: 'tags', in: 'query', style: 'spaceDelimited', explode: false, schema: { type: 'array' } },
            { name: 'limit', in: 'query', schema: { type: 'integer' } },
            { name: 'id', in: 'path', required: true, schema: { type: 'string' } },
          ],
          responses: { 200: { description: 'ok' } },
        },
      },
    },
  } as unknown as Document;
  const { original, fast } = await pair(definition);
  let compared = 0;
  for (const path of ['/things/a%2Fb', '/things/%E0%A4%A']) compared += compare(original, fast, path, 'GET', 'getThing', true);
  assert.ok(compared > 1000);
});

/**
 * The precompiled request validation (src/http/fast-validate.ts) gives exactly what
 * openapi-backend's own validateRequest gives: for every operation of the spec (and a small spec
 * with array, JSON and non-JSON-body parameters), with valid and invalid queries, headers and
 * bodies, the results are deep-equal (errors included), or both throw the same error.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OpenAPIBackend, type Document } from 'openapi-backend';
import { createAjv, loadSpec } from '../../src/http/api.ts';
import { precompileParser } from '../../src/http/fast-parse.ts';
import { precompileValidator } from '../../src/http/fast-validate.ts';

async function pair(definition: Document): Promise<{ original: OpenAPIBackend; fast: OpenAPIBackend }> {
  const make = async () => {
    const api = new OpenAPIBackend({
      definition: structuredClone(definition), quick: true, validate: true,
      customizeAjv: (_original, opts) => createAjv(opts) as never,
    });
    await api.init();
    return api;
  };
  const original = await make();
  const fast = await make();
  precompileParser(fast);
  precompileValidator(fast);
  return { original, fast };
}

function outcome(api: OpenAPIBackend, req: unknown, operation: unknown): unknown {
  try {
    return { ok: api.validator.validateRequest(structuredClone(req) as never, operation as never) };
  } catch (err) {
    return { threw: (err as Error).message };
  }
}

const QUERIES: unknown[] = [{}, { limit: '10' }, { limit: 'x' }, { limit: ['1', '2'] }, { after: 'abc', before_seq: '-1' }, { ids: 'a' }, { filter: '{"a":1}' }, { filter: '{bad' }, { unknown: 'y' }];
const HEADERS: Record<string, unknown>[] = [
  {}, { 'content-type': 'application/json' }, { 'Content-Type': 'application/json; charset=utf-8', 'idempotency-key': 'k' },
  { 'content-type': ['text/plain'] }, { 'x-user-id': 'u', cookie: 'a=1' },
];
const BODIES: unknown[] = [undefined, null, {}, { content: 'hi' }, { content: '' }, { content: 5, extra: true }, [], 'not json', '{"content":"hi"}', 0];

function requests(method: string, path: string) {
  const base = { method, path, query: {}, headers: HEADERS[1], body: { content: 'hi' } };
  return [
    ...QUERIES.map((query) => ({ ...base, query })),
    ...HEADERS.map((headers) => ({ ...base, headers })),
    ...BODIES.map((body) => ({ ...base, body })),
  ];
}

function compareAll(original: OpenAPIBackend, fast: OpenAPIBackend, concrete: (path: string) => string): number {
  let compared = 0;
  for (const op of original.router.getOperations()) {
    for (const req of requests(op.method.toUpperCase(), concrete(op.path))) {
      for (const by of ['object', 'id', 'none'] as const) {
        const pick = (api: OpenAPIBackend) => (by === 'object' ? api.router.getOperation(op.operationId!) : by === 'id' ? op.operationId : undefined);
        assert.deepStrictEqual(outcome(fast, req, pick(fast)), outcome(original, req, pick(original)), `${op.operationId} ${by} ${JSON.stringify(req)}`);
        compared++;
      }
    }
  }
  return compared;
}

test('the precompiled validation gives what openapi-backend gives for every operation of the spec', async () => {
  const { original, fast } = await pair(loadSpec());
  const compared = compareAll(original, fast, (p) => p.replace(/\{[^}]+\}/g, '9b2f7c1e-5d4a-4e3b-8c2d-1a0b9c8d7e6f'));
  assert.ok(compared > 3000, `${compared}`);
});

test('the precompiled validation handles array, JSON query and non-JSON body operations like openapi-backend', async () => {
  const definition = {
    openapi: '3.1.0',
    info: { title: 't', version: '1' },
    paths: {
      '/things/{id}': {
        parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string', minLength: 2 } }],
        get: {
          operationId: 'getThing',
          parameters: [
            { name: 'ids', in: 'query', schema: { type: 'array', items: { type: 'string' } } },
            { name: 'ids', in: 'query', schema: { type: 'string' } },
            { name: 'filter', in: 'query', content: { 'application/json': { schema: { type: 'object' } } } },
            { name: 'limit', in: 'query', schema: { type: 'integer' } },
          ],
          responses: { 200: { description: 'ok' } },
        },
        post: {
          operationId: 'postThing',
          requestBody: { content: { 'application/json': { schema: { type: 'object', required: ['content'] } } } },
          responses: { 200: { description: 'ok' } },
        },
        put: {
          operationId: 'putThing',
          requestBody: { content: { 'text/plain': { schema: { type: 'string' } }, 'application/json': { schema: { type: 'object' } } } },
          responses: { 200: { description: 'ok' } },
        },
      },
    },
  } as unknown as Document;
  const { original, fast } = await pair(definition);
  const compared = compareAll(original, fast, (p) => p.replace('{id}', 'x')) + compareAll(original, fast, (p) => p.replace('{id}', 'xyz'));
  assert.ok(compared > 300, `${compared}`);
});

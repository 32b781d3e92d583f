/**
 * The precompiled router (src/http/fast-router.ts) routes exactly like openapi-backend's own:
 * every spec path with every method, with concrete ids, unknown paths and odd inputs, in strict
 * and non-strict mode, give the same operation or the same error.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OpenAPIBackend, type Document } from 'openapi-backend';
import { loadSpec } from '../../src/http/api.ts';
import { precompileRouter } from '../../src/http/fast-router.ts';

async function backend(): Promise<OpenAPIBackend> {
  const api = new OpenAPIBackend({ definition: structuredClone(loadSpec()) as Document, quick: true, validate: false });
  await api.init();
  return api;
}

function outcome(api: OpenAPIBackend, method: string, path: string, strict: boolean): string {
  try {
    return api.router.matchOperation({ method, path, headers: {} }, strict)?.operationId ?? 'undefined';
  } catch (err) {
    return (err as Error).message;
  }
}

test('the precompiled router gives the same answer as openapi-backend for every route and stray', async () => {
  const original = await backend();
  const fast = await backend();
  precompileRouter(fast);
  const spec = loadSpec() as { paths: Record<string, unknown> };
  const paths = Object.keys(spec.paths).flatMap((p) => [p, p.replace(/\{[^}]+\}/g, 'abc-123'), p.replace(/\{[^}]+\}/g, 'x.y') + '/', p + '/extra']);
  paths.push('/', '', '/v1', '/v1/', '/v1/rooms/a/b/c/d', '/V1/ROOMS', '/v1/rooms//messages', '/health/', '/nope', '/v1/users/%41');
  let compared = 0;
  for (const path of paths) {
    for (const method of ['get', 'post', 'patch', 'delete', 'put', 'GET', 'options']) {
      for (const strict of [true, false]) {
        assert.equal(outcome(fast, method, path, strict), outcome(original, method, path, strict), `${method} ${path} strict=${strict}`);
        compared++;
      }
    }
  }
  assert.ok(compared > 500);
});

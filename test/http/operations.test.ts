/**
 * The spec and the code meet in one handler map: the set of operationIds in spec/openapi.yaml
 * equals the set of registered handlers, both ways (zulip's and style.md's rule).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadSpec } from '../../src/http/api.ts';
import { operationHandlers } from '../../src/http/handlers/index.ts';
import type { HttpDeps } from '../../src/http/operation.ts';

/** operationIds an issue named as a bare verb (issue 8 names `logout`); every other id is verb-noun. */
const VERB_ONLY = new Set(['logout']);

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'options', 'head', 'trace'];

function specOperationIds(): string[] {
  const spec = loadSpec() as { paths: Record<string, Record<string, { operationId?: string }>> };
  const ids: string[] = [];
  for (const [path, item] of Object.entries(spec.paths)) {
    for (const method of METHODS) {
      const op = item[method];
      if (!op) continue;
      assert.ok(op.operationId, `${method.toUpperCase()} ${path} has no operationId in spec/openapi.yaml`);
      ids.push(op.operationId);
    }
  }
  return ids.sort();
}

test('every operationId in the spec has exactly one handler, and every handler an operation', () => {
  const fromSpec = specOperationIds();
  assert.equal(new Set(fromSpec).size, fromSpec.length, 'operationIds in the spec must be unique');
  const handlers = Object.keys(operationHandlers({} as HttpDeps)).sort();
  const missing = fromSpec.filter((id) => !handlers.includes(id));
  const extra = handlers.filter((id) => !fromSpec.includes(id));
  assert.deepEqual(missing, [], `operations in spec/openapi.yaml without a handler: add them to src/http/handlers`);
  assert.deepEqual(extra, [], `handlers without an operation in spec/openapi.yaml: add the operation or remove the handler`);
});

test('operationIds are camelCase verb-noun and each operation has exactly one tag', () => {
  const spec = loadSpec() as { paths: Record<string, Record<string, { operationId?: string; tags?: string[] }>> };
  for (const item of Object.values(spec.paths)) {
    for (const method of METHODS) {
      const op = item[method];
      if (!op) continue;
      if (!VERB_ONLY.has(op.operationId!)) assert.match(op.operationId!, /^[a-z]+[A-Z][A-Za-z]*$/, `${op.operationId} is not camelCase verb-noun`);
      assert.equal(op.tags?.length, 1, `${op.operationId} must have exactly one tag`);
    }
  }
});

/**
 * Every operation of spec/openapi.yaml (the bundle in generated/), read the way the attack suites
 * need it: method, path, security, parameters (path-level and operation-level, $refs resolved) and
 * the JSON request body schema. Suites iterate over this list, so operations added later are
 * probed and fuzzed without anyone remembering to add them.
 */
import { loadSpec } from '../../src/http/api.ts';

export type Schema = Record<string, any>;

export interface SpecParam {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required: boolean;
  schema: Schema;
}

export interface SpecOperation {
  operationId: string;
  method: string;
  path: string;
  /** Alternatives, each a set of scheme names (empty list: public). */
  security: string[][];
  params: SpecParam[];
  /** The application/json request body schema, if any. */
  body?: Schema;
  bodyRequired: boolean;
  responses: string[];
}

const METHODS = ['get', 'put', 'post', 'patch', 'delete'];
const spec = loadSpec() as unknown as Schema;

/** Resolves a local JSON pointer (`#/components/schemas/X/properties/y`). */
export function resolvePointer(ref: string): Schema {
  if (!ref.startsWith('#/')) throw new Error(`only local $refs are supported, got ${ref}`);
  let node: any = spec;
  for (const raw of ref.slice(2).split('/')) {
    node = node?.[raw.replace(/~1/g, '/').replace(/~0/g, '~')];
    if (node === undefined) throw new Error(`dangling $ref ${ref}`);
  }
  return node as Schema;
}

/** Follows $refs at the top of a schema (repeatedly). */
export function deref(schema: Schema): Schema {
  let s = schema;
  for (let i = 0; s && typeof s.$ref === 'string' && i < 32; i++) s = { ...resolvePointer(s.$ref), ...omit(s, '$ref') };
  return s;
}

function omit(o: Schema, key: string): Schema {
  const { [key]: _drop, ...rest } = o;
  return rest;
}

function param(p: Schema): SpecParam {
  const r = deref(p);
  return { name: r.name, in: r.in, required: Boolean(r.required), schema: deref(r.schema ?? {}) };
}

let cached: SpecOperation[] | undefined;

export function specOperations(): SpecOperation[] {
  if (cached) return cached;
  const ops: SpecOperation[] = [];
  for (const [path, item] of Object.entries(spec.paths as Record<string, Schema>)) {
    for (const method of METHODS) {
      const op = item[method];
      if (!op) continue;
      const byKey = new Map<string, SpecParam>();
      for (const p of [...(item.parameters ?? []), ...(op.parameters ?? [])].map(param)) byKey.set(`${p.in}:${p.name}`, p);
      const rb = op.requestBody ? deref(op.requestBody) : undefined;
      const bodySchema = rb?.content?.['application/json']?.schema;
      ops.push({
        operationId: op.operationId,
        method: method.toUpperCase(),
        path,
        security: (op.security ?? spec.security ?? []).map((alt: Record<string, unknown>) => Object.keys(alt)),
        params: [...byKey.values()],
        body: bodySchema ? deref(bodySchema) : undefined,
        bodyRequired: Boolean(rb?.required),
        responses: Object.keys(op.responses ?? {}),
      });
    }
  }
  cached = ops;
  return ops;
}

/** Fills `{name}` placeholders of a path template, URL-encoding each value. */
export function fillPath(template: string, values: Record<string, string>): string {
  return template.replace(/\{([^}]+)\}/g, (_m, name: string) => {
    const v = values[name];
    if (v === undefined) throw new Error(`no value for path parameter {${name}} in ${template}`);
    return encodeURIComponent(v);
  });
}

/** Which identity an operation is called with: the operator, the tenant's key alone, a user, or a browser's publishable key. */
export type Caller = 'public' | 'master' | 'tenant' | 'user' | 'publishable';

/** The most natural caller for an operation: the first alternative of its security. */
export function callerOf(op: SpecOperation): Caller {
  if (op.security.length === 0) return 'public';
  const first = op.security[0]!;
  if (first.includes('MasterKey')) return 'master';
  if (first.includes('UserId') || first.includes('Bearer')) return 'user';
  if (first.includes('ApiKey')) return 'tenant';
  if (first.includes('PublishableKey')) return 'publishable';
  throw new Error(`${op.operationId}: unknown security schemes ${first.join('+')}; teach test/helpers/spec-ops.ts about them`);
}

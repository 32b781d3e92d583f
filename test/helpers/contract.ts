/**
 * The REST contract, checked from the client's side: every response a test receives must be
 * documented for its operation and status, and its body must match that response's schema in
 * spec/openapi.yaml (as bundled in generated/). A mismatch throws an error that says what to fix.
 */
import { createRequire } from 'node:module';
import { OpenAPIBackend, type Document, type Operation } from 'openapi-backend';
import { createAjv } from '../../src/http/api.ts';

const require = createRequire(import.meta.url);
const spec = require('../../generated/openapi.bundle.json') as Document;

let apiPromise: Promise<OpenAPIBackend> | undefined;
function api(): Promise<OpenAPIBackend> {
  apiPromise ??= (async () => {
    const backend = new OpenAPIBackend({
      definition: structuredClone(spec),
      quick: true,
      validate: true,
      customizeAjv: (_o, opts) => createAjv(opts) as never,
    });
    await backend.init();
    return backend;
  })();
  return apiPromise;
}

let errorEnvelope: ((data: unknown) => boolean) & { errors?: unknown } | undefined;
function errorEnvelopeValidator() {
  if (!errorEnvelope) {
    const ajv = createAjv();
    ajv.addSchema(structuredClone(spec) as object, 'spec');
    errorEnvelope = ajv.getSchema('spec#/components/schemas/ErrorEnvelope') as typeof errorEnvelope;
  }
  return errorEnvelope!;
}

export class ContractViolation extends Error {
  override name = 'ContractViolation';
}

export interface CheckedResponse {
  operationId: string | null;
  status: number;
  body: unknown;
}

/** Validates one response; returns the matched operationId (null for unrouted paths). */
export async function checkResponse(method: string, path: string, status: number, headers: Headers, body: unknown): Promise<CheckedResponse> {
  const where = `${method.toUpperCase()} ${path} → ${status}`;
  const requestId = headers.get('x-request-id');
  if (!requestId) throw new ContractViolation(`${where}: missing X-Request-Id header (every response carries one)`);
  const envelope = body as { success?: unknown; error?: { request_id?: string } | null };
  if (typeof body !== 'object' || body === null || typeof envelope.success !== 'boolean') {
    throw new ContractViolation(`${where}: body is not the {success, data, error} envelope: ${JSON.stringify(body)?.slice(0, 300)}`);
  }
  if (envelope.error && envelope.error.request_id !== requestId) {
    throw new ContractViolation(`${where}: error.request_id (${envelope.error.request_id}) differs from X-Request-Id (${requestId})`);
  }
  const backend = await api();
  let operation: Operation | undefined;
  try {
    operation = backend.router.matchOperation({ method, path, headers: {} }, true) as Operation;
  } catch {
    operation = undefined;
  }
  if (!operation) {
    const validate = errorEnvelopeValidator();
    if (status < 400 || !validate(body)) {
      throw new ContractViolation(`${where}: unrouted path must answer the ErrorEnvelope: ${JSON.stringify(validate.errors ?? body)}`);
    }
    return { operationId: null, status, body };
  }
  const documented = Object.keys(operation.responses ?? {});
  if (!documented.includes(String(status)) && !documented.includes('default')) {
    throw new ContractViolation(`${where}: status ${status} is not documented for ${operation.operationId} (documented: ${documented.join(', ')}); add it to spec/openapi.yaml or fix the handler`);
  }
  const result = backend.validateResponse(body, operation, status);
  if (result.errors?.length) {
    const why = result.errors.map((e) => `${e.instancePath || '(root)'} ${e.message}${e.params ? ' ' + JSON.stringify(e.params) : ''}`).join('; ');
    throw new ContractViolation(`${where}: body does not match the ${status} response of ${operation.operationId} in spec/openapi.yaml: ${why}\nbody: ${JSON.stringify(body).slice(0, 600)}`);
  }
  return { operationId: operation.operationId ?? null, status, body };
}

/** A fetch that validates every response against the spec before handing it back. */
export function validatingFetch(inner: typeof fetch = fetch): (input: Request) => Promise<Response> {
  return async (request: Request) => {
    const response = await inner(request);
    const text = await response.clone().text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new ContractViolation(`${request.method} ${new URL(request.url).pathname} → ${response.status}: body is not JSON: ${text.slice(0, 200)}`);
    }
    await checkResponse(request.method, new URL(request.url).pathname, response.status, response.headers, body);
    return response;
  };
}

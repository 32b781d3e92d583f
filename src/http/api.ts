/**
 * openapi-backend bound to the bundled spec: routing, request validation (Ajv 2020, strict mode)
 * and security per operation, then the handler by operationId. Meta-handlers shape every
 * framework outcome (validation failure, unknown path, wrong method, failed security) into the
 * envelope, so no request that fails validation or security ever reaches a handler.
 */
import { createRequire } from 'node:module';
import type { Context as KoaContext } from 'koa';
import { OpenAPIBackend, type Context as ApiContext, type Document } from 'openapi-backend';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { ErrorObject, Options } from 'ajv';
import { writeData, writeDomainError, writeError } from './envelope.ts';
import { credentialRefused, securityHandlers, unauthorizedMessage } from './security.ts';
import { operationHandlers } from './handlers/index.ts';
import { precompileRouter } from './fast-router.ts';
import { precompileParser } from './fast-parse.ts';
import { precompileValidator } from './fast-validate.ts';
import type { HttpDeps, Operation, OperationRequest } from './operation.ts';
import { type ErrorDetail, isDomainError } from '../domain/errors.ts';

const require = createRequire(import.meta.url);
const addFormats = require('ajv-formats') as (ajv: Ajv2020) => Ajv2020;

/** Ajv for JSON Schema 2020-12 (what OpenAPI 3.1 uses) with formats; shared with the test contract checker. */
export function createAjv(opts: Options = {}): Ajv2020 {
  const ajv = new Ajv2020({ ...opts, strict: false, allErrors: true });
  addFormats(ajv);
  return ajv;
}

/** The spec, bundled into one document by `make generate`. */
export function loadSpec(): Document {
  return require('../../generated/openapi.bundle.json') as Document;
}

const HTTP_METHODS = ['get', 'put', 'post', 'patch', 'delete'];

/** openapi-backend validates one object with `path`, `query`, `headers`, `requestBody` keys. */
const LOCATION: Record<string, string> = { requestBody: 'body', query: 'query', path: 'path', headers: 'header' };

export function validationDetails(errors: ErrorObject[] | null | undefined): ErrorDetail[] {
  return (errors ?? []).map((e) => {
    const [where, ...rest] = e.instancePath.split('/').filter(Boolean);
    const extra = (e.params as { missingProperty?: string; additionalProperty?: string }) ?? {};
    const name = extra.missingProperty ?? extra.additionalProperty;
    const segments = [LOCATION[where] ?? where ?? 'request', ...rest, ...(name ? [name] : [])];
    const message = e.keyword === 'additionalProperties' ? 'is not allowed' : e.keyword === 'required' ? 'is required' : e.message ?? 'is invalid';
    return { field: segments.filter(Boolean).join('.'), message };
  });
}

function summary(details: ErrorDetail[]): string {
  const first = details.slice(0, 3).map((d) => `${d.field}: ${d.message}`).join('; ');
  return details.length > 3 ? `${first}; and ${details.length - 3} more` : first || 'Invalid request';
}

/**
 * What a token scoped to one room (exchangeRoomCode) may call: that room's operations (the domain
 * checks the room), itself, and a WebSocket ticket. Anything else answers NOT_FOUND, as a room it
 * cannot see would.
 */
const ROOM_SCOPED_OPERATIONS = new Set([
  'getMe', 'createRealtimeTicket', 'getRateLimit', 'getRoom', 'listRoomMembers', 'removeRoomMember', 'getRoomPresence',
  'sendMessage', 'listRoomMessages', 'getMessage', 'editMessage', 'deleteMessage', 'markRoomRead', 'ackDelivery',
]);

function bind(operationId: string, op: Operation) {
  return async (c: ApiContext, ctx: KoaContext) => {
    const scoped = (ctx.state.auth as { caller?: { roomId?: string } } | undefined)?.caller?.roomId;
    if (scoped !== undefined && !ROOM_SCOPED_OPERATIONS.has(operationId)) return writeError(ctx, 'NOT_FOUND', 'Not found');
    const req: OperationRequest = {
      params: (c.request.params ?? {}) as Record<string, string>,
      query: (c.request.query ?? {}) as OperationRequest['query'],
      headers: c.request.headers as OperationRequest['headers'],
      body: c.request.requestBody,
      auth: ctx.state.auth ?? {},
      koa: ctx,
    };
    const reply = await op(req);
    if (reply.error) writeError(ctx, reply.error.code, reply.error.message, reply.error.details, reply.data);
    else writeData(ctx, reply.status, reply.data);
  };
}

export async function createApi(deps: HttpDeps, definition: Document = loadSpec()): Promise<OpenAPIBackend> {
  const api = new OpenAPIBackend({
    definition,
    quick: true,
    strict: true,
    validate: true,
    customizeAjv: (_original, ajvOpts) => createAjv(ajvOpts) as never,
  });
  const handlers = operationHandlers(deps);
  for (const [operationId, op] of Object.entries(handlers)) api.register(operationId, bind(operationId, op));
  api.register({
    postRoutingHandler: (c: ApiContext, ctx: KoaContext) => {
      ctx.state.operationId = c.operation?.operationId;
    },
    validationFail: (c: ApiContext, ctx: KoaContext) => {
      const details = validationDetails(c.validation.errors as ErrorObject[]);
      writeError(ctx, 'VALIDATION_ERROR', summary(details), details);
    },
    notFound: (_c: ApiContext, ctx: KoaContext) => writeError(ctx, 'NOT_FOUND', `No route for ${ctx.method} ${ctx.path}`),
    methodNotAllowed: (_c: ApiContext, ctx: KoaContext) => {
      const allowed = HTTP_METHODS.filter((method) => api.router.matchOperation({ method, path: ctx.path, headers: {} }));
      if (allowed.length) ctx.set('Allow', allowed.map((m) => m.toUpperCase()).join(', '));
      writeError(ctx, 'METHOD_NOT_ALLOWED', `${ctx.method} is not allowed on ${ctx.path}`);
    },
    unauthorizedHandler: async (c: ApiContext, ctx: KoaContext) => {
      const schemes = (c.operation.security ?? []).flatMap((r) => Object.keys(r));
      if (credentialRefused(ctx)) {
        try {
          await deps.domain.authFailures.refused(ctx.ip || 'unknown');
        } catch (err) {
          if (isDomainError(err)) return writeDomainError(ctx, err);
          throw err;
        }
      }
      writeError(ctx, 'AUTHENTICATION_ERROR', unauthorizedMessage(ctx, schemes));
    },
  });
  for (const [name, handler] of Object.entries(securityHandlers)) api.registerSecurityHandler(name, handler as never);
  await api.init();
  precompileRouter(api);
  precompileParser(api);
  precompileValidator(api);
  return api;
}

/** The operationId a method and path route to, without running anything. */
export function operationOf(api: OpenAPIBackend) {
  return (method: string, path: string): string | undefined => {
    try {
      return api.router.matchOperation({ method, path, headers: {} })?.operationId;
    } catch {
      return undefined;
    }
  };
}

export { writeDomainError };

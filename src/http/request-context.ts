/**
 * Outermost middleware: gives every request an id (echoed as `X-Request-Id` and in error bodies),
 * logs it, and turns anything thrown below into the envelope. Unexpected failures become
 * INTERNAL_ERROR with the request id; their stack and any SQL stay in the log, never the body.
 */
import { randomUUID } from 'node:crypto';
import type { Context, Middleware, Next } from 'koa';
import type { Logger } from '../log.ts';
import { isDomainError } from '../domain/errors.ts';
import { isDatabaseUnavailable, OUTAGE_RETRY_AFTER_S } from '../store/availability.ts';
import { writeDomainError, writeError } from './envelope.ts';

const REQUEST_ID = /^[A-Za-z0-9._:-]{8,128}$/;

/** koa-bodyparser / raw-body report their failures with these `type`s. */
function bodyParserError(ctx: Context, err: { type?: string; status?: number; message?: string; code?: unknown }, limit: number): boolean {
  if (err.type === 'entity.too.large' || err.status === 413) {
    writeError(ctx, 'PAYLOAD_TOO_LARGE', `Request body exceeds ${limit} bytes`);
    return true;
  }
  // Any other 400 from the parser is a body it refused to parse (e.g. a `__proto__` key).
  if (err.type === 'entity.parse.failed' || err.status === 400) {
    writeError(ctx, 'VALIDATION_ERROR', 'Malformed JSON body', [{ field: 'body', message: err.message ?? 'invalid JSON' }]);
    return true;
  }
  if (err.type === 'encoding.unsupported' || err.type === 'charset.unsupported' || err.status === 415) {
    writeError(ctx, 'VALIDATION_ERROR', 'Unsupported body encoding; send UTF-8 JSON');
    return true;
  }
  // zlib failures: Content-Encoding promised gzip/deflate/br but the bytes are not.
  if (typeof err.code === 'string' && err.code.startsWith('Z_')) {
    writeError(ctx, 'VALIDATION_ERROR', 'Request body could not be decompressed; check Content-Encoding');
    return true;
  }
  if (err.type === 'request.aborted') {
    writeError(ctx, 'VALIDATION_ERROR', 'Request body was not received completely');
    return true;
  }
  return false;
}

export function requestContext(log: Logger, bodyLimitBytes: number): Middleware {
  return async function requestContextMiddleware(ctx: Context, next: Next) {
    const incoming = ctx.get('X-Request-Id');
    const requestId = REQUEST_ID.test(incoming) ? incoming : randomUUID();
    ctx.state.requestId = requestId;
    ctx.set('X-Request-Id', requestId);
    const started = performance.now();
    try {
      await next();
    } catch (err) {
      if (isDomainError(err)) writeDomainError(ctx, err);
      // The router decodes path segments; broken percent-encoding is the client's mistake.
      else if (err instanceof URIError) {
        writeError(ctx, 'VALIDATION_ERROR', 'The path is not valid percent-encoded UTF-8', [{ field: 'path', message: 'malformed percent-encoding' }]);
      } else if (isDatabaseUnavailable(err)) {
        // An outage, not a bug: 503 with Retry-After, so clients and load balancers back off and retry.
        log.warn({ err, requestId, method: ctx.method, path: ctx.path }, 'database unavailable');
        ctx.set('Retry-After', String(OUTAGE_RETRY_AFTER_S));
        writeError(ctx, 'SERVICE_UNAVAILABLE', `The database is unavailable; retry after ${OUTAGE_RETRY_AFTER_S} s`);
      } else if (!bodyParserError(ctx, err as { type?: string }, bodyLimitBytes)) {
        log.error({ err, requestId, method: ctx.method, path: ctx.path }, 'unhandled error');
        writeError(ctx, 'INTERNAL_ERROR', `Internal error; quote request id ${requestId}`);
      }
    }
    if (log.isLevelEnabled('debug')) log.debug({ requestId, method: ctx.method, path: ctx.path, status: ctx.status, ms: +(performance.now() - started).toFixed(2) }, 'request');
  };
}

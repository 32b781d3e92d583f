/**
 * The response envelope (design.md § Conventions): `{success, data, error}` on every REST response.
 * The one place that shapes REST bodies, so no handler writes an ad-hoc error.
 */
import type { Context } from 'koa';
import { DomainError, ERROR_CATALOGUE, type ErrorCode, type ErrorDetail } from '../domain/errors.ts';

export interface ErrorEnvelope {
  success: false;
  data: unknown;
  error: { code: ErrorCode; message: string; details: ErrorDetail[]; request_id: string; retry_after_ms?: number };
}

export function writeData(ctx: Context, status: number, data: unknown): void {
  ctx.status = status;
  ctx.body = { success: true, data, error: null };
}

export function writeError(
  ctx: Context,
  code: ErrorCode,
  message: string = ERROR_CATALOGUE[code].message,
  details: ErrorDetail[] = [],
  data: unknown = null,
): void {
  ctx.status = ERROR_CATALOGUE[code].status;
  const body: ErrorEnvelope = {
    success: false,
    data,
    error: { code, message, details, request_id: ctx.state.requestId },
  };
  ctx.body = body;
}

export function writeDomainError(ctx: Context, err: DomainError): void {
  writeError(ctx, err.code, err.message, err.details);
  if (err.retryAfterMs !== undefined) {
    (ctx.body as ErrorEnvelope).error.retry_after_ms = err.retryAfterMs;
    ctx.set('Retry-After', String(Math.max(1, Math.ceil(err.retryAfterMs / 1000))));
  }
}

/**
 * What a handler sees and returns. Handlers are bound by operationId (handlers/index.ts) and stay
 * thin: read the validated request, call the domain, say which status and data to send.
 */
import type { Context as KoaContext } from 'koa';
import type { Caller, Domain } from '../domain/index.ts';
import { DomainError } from '../domain/errors.ts';
import type { Config } from '../config.ts';
import type { Logger } from '../log.ts';
import type { AuthState } from './auth.ts';

export interface OperationRequest<Body = unknown> {
  params: Record<string, string>;
  query: Record<string, string | string[] | undefined>;
  headers: Record<string, string | string[] | undefined>;
  body: Body;
  auth: AuthState;
  koa: KoaContext;
}

export interface Reply {
  status: number;
  data: unknown;
  /** A failure that still carries data (the health report on 503). */
  error?: DomainError;
}

/** Issues one-time WebSocket tickets (implemented by the realtime node's ticket store). */
export interface TicketIssuer {
  issue(caller: Extract<Caller, { kind: 'user' }>, cred?: { tokenId?: string; expiresAt?: number }): Promise<{ ticket: string; expires_at: string }>;
}

/** The rate limiter as the REST layer needs it (src/ratelimit). */
export interface LimiterView {
  state(tenantId: string, limits: { rate: number; burst: number }): Promise<{
    limit: number; remaining: number; resetMs: number; policy: string;
  }>;
  degraded(): boolean;
}

export interface HttpDeps {
  config: Config;
  domain: Domain;
  log: Logger;
  startedAt: number;
  version: string;
  tickets?: TicketIssuer;
  /** Who is online on any node (the realtime presence registry). */
  presence?: { online(tenantId: string, userIds: string[]): Promise<Set<string>> };
  limiter?: LimiterView;
  /** Extra readiness checks (bus, limiter) contributed by the server assembly. */
  readiness?: () => Record<string, { ok: boolean; detail?: string; critical?: boolean }>;
}

export type Operation = (req: OperationRequest<any>) => Promise<Reply>;
export type OperationMap = Record<string, Operation>;

export const ok = (data: unknown): Reply => ({ status: 200, data });
export const created = (data: unknown): Reply => ({ status: 201, data });
export const deleted = (id: string): Reply => ({ status: 200, data: { id, deleted: true } });

/** The caller of an operation whose security guarantees credentials. */
export function callerOf(req: OperationRequest): Caller {
  const caller = req.auth.caller;
  if (!caller) throw new DomainError('AUTHENTICATION_ERROR');
  return caller;
}

export function userCallerOf(req: OperationRequest): Extract<Caller, { kind: 'user' }> {
  const caller = callerOf(req);
  if (caller.kind !== 'user') throw new DomainError('AUTHENTICATION_ERROR', 'This operation acts as a user');
  return caller;
}

/** Query integers arrive as strings; the spec has already checked their range. */
export function intParam(value: string | string[] | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(Array.isArray(value) ? value[0] : value);
  return Number.isFinite(n) ? n : undefined;
}

export function strParam(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

export function page(req: OperationRequest) {
  return { limit: intParam(req.query.limit), cursor: strParam(req.query.cursor) };
}

/**
 * openapi-backend security handlers, one per scheme in spec/openapi.yaml `components.securitySchemes`.
 * Each only reads the verdict auth.ts left; strict mode turns "no requirement satisfied" into
 * the unauthorizedHandler, so a request failing its security check never reaches a handler.
 */
import type { Context } from 'koa';
import type { AuthState } from './auth.ts';

type SecurityHandler = (c: unknown, ctx: Context) => boolean;

const auth = (ctx: Context): AuthState => ctx.state.auth ?? {};

export const securityHandlers: Record<string, SecurityHandler> = {
  MasterKey: (_c, ctx) => auth(ctx).master === true,
  ApiKey: (_c, ctx) => {
    const caller = auth(ctx).caller;
    return caller?.kind === 'tenant' || (caller?.kind === 'user' && caller.via === 'key');
  },
  UserId: (_c, ctx) => {
    const caller = auth(ctx).caller;
    return caller?.kind === 'user' && caller.via === 'key';
  },
  PublishableKey: (_c, ctx) => auth(ctx).publishable !== undefined,
  Bearer: (_c, ctx) => {
    const caller = auth(ctx).caller;
    return caller?.kind === 'user' && caller.via === 'token';
  },
};

/** A credential was presented and refused outright (not merely the wrong kind, or a valid key naming an unknown user). */
export function credentialRefused(ctx: Context): boolean {
  const state = auth(ctx);
  return state.error !== undefined && !state.caller && !state.tenant && !state.master && !state.publishable;
}

/** The 401 message: the specific reason when credentials were refused, else what to send. */
export function unauthorizedMessage(ctx: Context, schemes: string[]): string {
  const state = auth(ctx);
  if (state.error) return state.error;
  if (schemes.includes('MasterKey')) return 'This operation needs X-Master-Key';
  if (schemes.includes('PublishableKey')) return 'Send X-Publishable-Key (browsers) or X-API-Key (servers)';
  if (state.caller?.kind === 'tenant' && schemes.includes('UserId')) {
    return 'This operation acts as a user: add X-User-Id, or use Authorization: Bearer <user token>';
  }
  if (state.master) return 'The master key manages tenants only; use a tenant key or user token here';
  return 'Missing credentials: send X-API-Key (with X-User-Id to act as a user) or Authorization: Bearer <token>';
}

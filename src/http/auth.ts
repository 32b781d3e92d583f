/**
 * Credential resolution (design.md § Credentials). Runs before the rate limit and body parsing:
 * it works out who is calling from headers alone and leaves the verdict in `ctx.state.auth`.
 * It never rejects by itself; openapi-backend's security handlers (security.ts) decide per
 * operation, so an operation without security (health) is unaffected by a bad header.
 */
import { timingSafeEqual, createHash } from 'node:crypto';
import type { Context, Middleware, Next } from 'koa';
import type { Caller, Domain } from '../domain/index.ts';
import { isDomainError } from '../domain/errors.ts';
import { CredentialCache } from './credential-cache.ts';
import { publishableOriginAllowed } from '../domain/origins.ts';

export interface AuthState {
  caller?: Caller;
  /** The tenant whose valid credential was presented (counted by its rate limit even if the user is unknown). */
  tenant?: { id: string; settings: { rate_limit_per_second: number; rate_limit_burst: number; allowed_origins?: string[] } };
  master?: boolean;
  /** The user token presented (Bearer), so a WebSocket ticket's session ends with it. */
  token?: { id: string; expiresAt: number };
  /** A valid publishable key from an allowed origin: may make the sign-in calls for its tenant. */
  publishable?: { tenantId: string; keyId: string };
  /** Why presented credentials were refused (shown in the 401). */
  error?: string;
}

/** spec/schemas/user-id.yaml */
const USER_ID = /^[A-Za-z0-9._@:-]{1,128}$/;

const digest = (s: string) => createHash('sha256').update(s).digest();

function masterKeyMatches(given: string, expected: string | undefined): boolean {
  if (!expected) return false;
  return timingSafeEqual(digest(given), digest(expected));
}

async function resolveApiKey(domain: Domain, cache: CredentialCache, apiKey: string, userId: string): Promise<AuthState> {
  const tenant = await cache.get(`key:${CredentialCache.digest(apiKey)}`, () => domain.tenants.authenticateKey(apiKey));
  if (!tenant) return { error: 'Invalid API key' };
  if (!userId) return { caller: { kind: 'tenant', tenantId: tenant.id }, tenant };
  if (!USER_ID.test(userId)) return { error: 'X-User-Id must be 1-128 characters of A-Z a-z 0-9 . _ @ : -', tenant };
  const user = await cache.get(`user:${tenant.id}:${userId}`, () => domain.users.resolve(tenant.id, userId));
  // The tenant is known: its bucket still counts the request, but it acts as nobody.
  if (!user) return { error: 'X-User-Id names no user of this tenant', tenant };
  return { caller: { kind: 'user', tenantId: tenant.id, user, via: 'key' }, tenant };
}

async function resolveBearer(domain: Domain, cache: CredentialCache, token: string): Promise<AuthState> {
  return cache.get(`token:${CredentialCache.digest(token)}`, async (): Promise<AuthState> => {
    try {
      const { tenant, user, roomId, tokenId, expiresAt } = await domain.tokens.verify(token);
      return { caller: { kind: 'user', tenantId: tenant.id, user, via: 'token', ...(roomId ? { roomId } : {}) }, tenant, token: { id: tokenId, expiresAt } };
    } catch (err) {
      if (isDomainError(err)) return { error: err.message };
      throw err;
    }
  });
}

async function resolvePublishable(ctx: Context, domain: Domain, cache: CredentialCache, secret: string): Promise<AuthState> {
  const found = await cache.get(`pk:${CredentialCache.digest(secret)}`, () => domain.publishableKeys.authenticate(secret));
  if (!found) return { error: 'Invalid publishable key' };
  if (!publishableOriginAllowed(found.tenant, ctx.get('Origin') || undefined)) {
    return { error: "This publishable key may only be used from the tenant's allowed origins", tenant: found.tenant };
  }
  return { publishable: { tenantId: found.tenant.id, keyId: found.keyId }, tenant: found.tenant };
}

export async function resolveCredentials(ctx: Context, domain: Domain, masterKey: string | undefined, cache: CredentialCache): Promise<AuthState> {
  const master = ctx.get('X-Master-Key');
  const apiKey = ctx.get('X-API-Key');
  const authorization = ctx.get('Authorization');
  const state: AuthState = {};
  if (master) {
    if (masterKeyMatches(master, masterKey)) state.master = true;
    else state.error = 'Invalid master key';
  }
  if (apiKey) return { ...state, ...(await resolveApiKey(domain, cache, apiKey, ctx.get('X-User-Id'))) };
  const publishable = ctx.get('X-Publishable-Key');
  if (publishable) return { ...state, ...(await resolvePublishable(ctx, domain, cache, publishable)) };
  if (authorization) {
    const m = /^Bearer\s+(\S+)$/i.exec(authorization);
    if (!m) return { ...state, error: 'Authorization must be "Bearer <token>"' };
    return { ...state, ...(await resolveBearer(domain, cache, m[1])) };
  }
  return state;
}

/** Changes to these resources can change who a credential is (keys, users, roles, tokens, sign-ins). */
const CREDENTIAL_RESOURCES = /^\/v1\/(tenants|users|auth)(\/|$)/;

export function authMiddleware(domain: Domain, masterKey: string | undefined, cache: CredentialCache): Middleware {
  return async function auth(ctx: Context, next: Next) {
    ctx.state.auth = await resolveCredentials(ctx, domain, masterKey, cache);
    try {
      await next();
    } finally {
      if (ctx.method !== 'GET' && ctx.method !== 'HEAD' && CREDENTIAL_RESOURCES.test(ctx.path)) cache.invalidate();
    }
  };
}

/**
 * A credential → tenant resolver for the rate-limit middleware, with a small TTL cache so a
 * flooding tenant costs a hash and a Map lookup per request instead of a database query.
 * Only verified credentials map to a tenant; anything else resolves to null (not counted).
 * Cached entries live `ttlMs` (default 5 s): a rotated key or changed limit applies to
 * rate limiting within that time. Authentication itself stays with the auth layer.
 */
import { sha256 } from '../sha256.ts';
import type { Context } from 'koa';
import { type BucketLimits } from './bucket.ts';
import { limitsFor } from './index.ts';
import type { ResolveTenant, ResolvedTenant } from './middleware.ts';

export interface TenantLike {
  id: string;
  settings?: { rate_limit_per_second?: number | null; rate_limit_burst?: number | null } | null;
}

export interface CredentialLookup {
  /** tenant for an X-API-Key, null when the key is unknown */
  byApiKey(apiKey: string): Promise<TenantLike | null>;
  /** tenant for a verified bearer token, null when invalid/expired/revoked */
  byBearer?(token: string): Promise<TenantLike | null>;
}

export interface ResolverOptions {
  defaults: { rateLimitPerSecond: number; rateLimitBurst: number };
  ttlMs?: number;
  negativeTtlMs?: number;
  maxEntries?: number;
  now?: () => number;
}

interface Entry { value: ResolvedTenant | null; expires: number }

export function cachedTenantResolver(lookup: CredentialLookup, opts: ResolverOptions): ResolveTenant & {
  invalidate(): void;
} {
  const cache = new Map<string, Entry>();
  const now = opts.now ?? Date.now;
  const ttl = opts.ttlMs ?? 5000;
  const negativeTtl = opts.negativeTtlMs ?? 1000;
  const max = opts.maxEntries ?? 10_000;

  async function resolve(kind: 'key' | 'bearer', credential: string): Promise<ResolvedTenant | null> {
    const id = kind + ':' + sha256(credential, 'base64url');
    const hit = cache.get(id);
    const t = now();
    if (hit && hit.expires > t) return hit.value;
    const tenant = kind === 'key' ? await lookup.byApiKey(credential)
      : lookup.byBearer ? await lookup.byBearer(credential) : null;
    const value = tenant ? { tenantId: tenant.id, limits: toLimits(tenant, opts.defaults) } : null;
    cache.delete(id);
    if (cache.size >= max) cache.delete(cache.keys().next().value as string); // oldest first
    cache.set(id, { value, expires: t + (value ? ttl : negativeTtl) });
    return value;
  }

  const resolver = (async (ctx: Context) => {
    const apiKey = ctx.get('X-API-Key');
    if (apiKey) return resolve('key', apiKey);
    const auth = ctx.get('Authorization');
    if (auth.startsWith('Bearer ') && auth.length > 7) return resolve('bearer', auth.slice(7).trim());
    return null;
  }) as ResolveTenant & { invalidate(): void };
  resolver.invalidate = () => cache.clear();
  return resolver;
}

/**
 * Resolver for an app whose auth middleware already verified the credentials and left the
 * tenant in `ctx.state.auth.tenant` (src/http/auth.ts). Unverified callers resolve to null.
 */
export function resolveFromAuthState(defaults: ResolverOptions['defaults']): ResolveTenant {
  return (ctx) => {
    const tenant = (ctx.state.auth as { tenant?: TenantLike } | undefined)?.tenant;
    return tenant ? { tenantId: tenant.id, limits: toLimits(tenant, defaults) } : null;
  };
}

function toLimits(tenant: TenantLike, defaults: ResolverOptions['defaults']): BucketLimits {
  return limitsFor(tenant.settings, defaults);
}

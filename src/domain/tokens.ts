/**
 * User tokens: HS256 JWTs signed with the tenant's own secret, so a token of one tenant can never
 * verify for another. Every token has a `user_tokens` row (its jti) so it can be revoked.
 */
import { randomUUID } from 'node:crypto';
import { createVerifier, TokenError } from 'fast-jwt';
import { decodeJwt, decodeProtectedHeader, SignJWT, type JWTPayload } from 'jose';
import { isForeignKeyViolation } from '../store/db.ts';
import * as tokenStore from '../store/tokens.ts';
import * as userStore from '../store/users.ts';
import type { UserRow } from '../store/users.ts';
import { TurnBatch } from './turn-batch.ts';
import type { TenantRow } from '../store/tenants.ts';
import type { Ctx } from './context.ts';
import { DomainError, notFound } from './errors.ts';
import { banOf, bannedMessage } from './user-bans.ts';
import { tenantOut, userOut } from './mappers.ts';
import type { Tenant } from './wire.ts';
import type { TenantSettings } from './shapes.ts';
import { loadTenantRow } from './tenants.ts';
import type { Caller, Domain } from './types.ts';
import { checkInt, iso } from './validate.ts';
import { endSessions } from './sessions.ts';

const ALG = 'HS256';
const MAX_TOKEN_CHARS = 4096;

const secretKey = (tenant: TenantRow): Buffer => Buffer.from(tenant.jwt_secret, 'base64url');
const unauthenticated = (message: string) => new DomainError('AUTHENTICATION_ERROR', message);

/** Human-readable reason for a verification failure; the code stays AUTHENTICATION_ERROR either way. */
function verifyReason(err: unknown): string {
  const code = err instanceof TokenError ? err.code : undefined;
  switch (code) {
    case TokenError.codes.expired: return 'Token has expired';
    case TokenError.codes.invalidAlgorithm: return `Token algorithm is not allowed (only ${ALG})`;
    case TokenError.codes.invalidSignature:
    case TokenError.codes.missingSignature: return 'Token signature is invalid';
    case TokenError.codes.inactive:
    case TokenError.codes.invalidClaimType:
    case TokenError.codes.invalidClaimValue:
    case TokenError.codes.missingRequiredClaim: return `Token claim is invalid (${(err as TokenError).message})`;
    default: return 'Token is malformed';
  }
}

/** Verifiers by tenant secret (a rotated secret gets its own), so the key object is made once, not per token. */
type Verifiers = Map<string, (token: string) => unknown>;
const MAX_VERIFIERS = 1000;

function verifierFor(ctx: Ctx, verifiers: Verifiers, tenant: TenantRow): (token: string) => unknown {
  let verifier = verifiers.get(tenant.jwt_secret);
  if (verifier === undefined) {
    // Time claims are checked below against the injected clock (ctx.now()); fast-jwt would read
    // its clock once, when the verifier is made.
    verifier = createVerifier({
      key: secretKey(tenant),
      algorithms: [ALG],
      allowedIss: ctx.config.jwtIssuer,
      ignoreExpiration: true,
      ignoreNotBefore: true,
      requiredClaims: ['exp', 'sub', 'jti', 'iss'],
    }) as (token: string) => unknown;
    if (verifiers.size >= MAX_VERIFIERS) verifiers.delete(verifiers.keys().next().value!);
    verifiers.set(tenant.jwt_secret, verifier);
  }
  return verifier;
}

/** `exp` (required) and `nbf` (optional), as fast-jwt checks them, at the injected clock's time. */
function checkLifetime(payload: JWTPayload, now: number): void {
  const { exp, nbf } = payload as { exp: unknown; nbf?: unknown };
  if (nbf !== undefined) {
    if (typeof nbf !== 'number') throw unauthenticated('Token claim is invalid (The nbf claim must be a number.)');
    if (now < nbf * 1000) throw unauthenticated(`Token claim is invalid (The token will be active at ${new Date(nbf * 1000).toISOString()}.)`);
  }
  if (typeof exp !== 'number') throw unauthenticated('Token claim is invalid (The exp claim must be a number.)');
  if (now > exp * 1000) throw unauthenticated('Token has expired');
}

/**
 * Checks signature (HS256 only, with the tenant's secret), issuer and lifetime, synchronously
 * (node:crypto HMAC via fast-jwt; WebCrypto's async HMAC cost ~10% of a WebSocket connect).
 * `iss` is required as well as matched: fast-jwt's allowedIss alone would let a token without one pass.
 */
function verifySignedClaims(ctx: Ctx, verifiers: Verifiers, token: string, tenant: TenantRow): JWTPayload {
  let alg: unknown;
  try {
    alg = decodeProtectedHeader(token).alg;
  } catch {
    throw unauthenticated('Token is malformed');
  }
  if (alg !== ALG) throw unauthenticated(`Token algorithm is not allowed (only ${ALG})`);
  let payload: JWTPayload;
  try {
    payload = verifierFor(ctx, verifiers, tenant)(token) as JWTPayload;
  } catch (err) {
    throw unauthenticated(verifyReason(err));
  }
  checkLifetime(payload, ctx.now());
  return payload;
}

/**
 * Verification's reads, batched per turn of the event loop (turn-batch.ts): when thousands of
 * clients connect at once, every token verified in one turn shares one tenant read per tenant and
 * one token + user read per tenant. Always fresh reads: a revoked token or rotated secret is seen
 * as soon as it is committed.
 */
interface VerifyReads {
  tenants: TurnBatch<TenantRow | undefined>;
  tokens: TurnBatch<{ token: tokenStore.TokenRow; user: UserRow | undefined } | undefined>;
  /** tenantOut, one frozen record per tenant row content: thousands of sessions of a tenant share it. */
  tenantOut(row: TenantRow): Tenant;
  verifiers: Verifiers;
}

function verifyReads(ctx: Ctx): VerifyReads {
  const shaped = new Map<string, { row: TenantRow; out: Tenant }>();
  const same = (a: TenantRow, b: TenantRow) => a.name === b.name && a.settings === b.settings && a.created_at === b.created_at && a.updated_at === b.updated_at;
  return {
    verifiers: new Map(),
    tenants: new TurnBatch(async (tid) => new Map([['', await loadTenantRow(ctx, tid)]]), undefined),
    tokens: new TurnBatch((tenantId, ids) => tokenStore.findTokensWithUsers(ctx.db, tenantId, ids), undefined),
    tenantOut(row) {
      const hit = shaped.get(row.id);
      if (hit && same(hit.row, row)) return hit.out;
      const out = deepFreeze(tenantOut(row));
      if (shaped.size >= 1000) shaped.delete(shaped.keys().next().value!);
      shaped.set(row.id, { row, out });
      return out;
    },
  };
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/** The tenant named by the (not yet verified) `tid` claim; verification then uses its secret. */
async function tenantOfToken(reads: VerifyReads, token: string): Promise<TenantRow> {
  let claims: JWTPayload;
  try {
    claims = decodeJwt(token);
  } catch {
    throw unauthenticated('Token is malformed');
  }
  const tid = claims.tid;
  const tenant = typeof tid === 'string' && tid.length <= 64 ? await reads.tenants.load(tid, '') : undefined;
  if (!tenant) throw unauthenticated('Token does not belong to a known tenant');
  return tenant;
}

async function verify(ctx: Ctx, reads: VerifyReads, token: string) {
  if (typeof token !== 'string' || token.length === 0 || token.length > MAX_TOKEN_CHARS) throw unauthenticated('Token is malformed');
  const tenant = await tenantOfToken(reads, token);
  const payload = verifySignedClaims(ctx, reads.verifiers, token, tenant);
  const found = await reads.tokens.load(tenant.id, String(payload.jti));
  const row = found?.token;
  if (!row || row.user_id !== payload.sub) throw unauthenticated('Token is not known (its user or tenant may have been deleted)');
  if (row.revoked_at !== null) throw unauthenticated('Token has been revoked');
  const user = found.user;
  if (!user) throw unauthenticated('The token\'s user no longer exists');
  if (user.expires_at !== null && user.expires_at !== undefined && user.expires_at <= ctx.now()) throw unauthenticated('The guest has expired');
  const ban = banOf(user, ctx.now());
  if (ban) throw unauthenticated(bannedMessage(ban.until));
  return {
    tenant: reads.tenantOut(tenant), user: userOut(user), tokenId: row.id, expiresAt: row.expires_at,
    ...(row.room_id ? { roomId: row.room_id } : {}),
  };
}

/**
 * Signs a token for `userId` and records its jti. `roomId` scopes it to one room (the `rid` claim,
 * also kept on the row, so a scoped token can never be widened by editing its claims).
 */
export async function issueToken(ctx: Ctx, tenant: TenantRow, userId: string, ttl: number, roomId?: string) {
  const now = ctx.now();
  const iat = Math.floor(now / 1000);
  const exp = iat + ttl;
  const jti = randomUUID();
  const token = await new SignJWT({ tid: tenant.id, ...(roomId ? { rid: roomId } : {}) })
    .setProtectedHeader({ alg: ALG, typ: 'JWT' })
    .setIssuer(ctx.config.jwtIssuer)
    .setSubject(userId)
    .setJti(jti)
    .setIssuedAt(iat)
    .setExpirationTime(exp)
    .sign(secretKey(tenant));
  await tokenStore.deleteExpiredTokens(ctx.db, tenant.id, userId, now);
  try {
    await tokenStore.insertToken(ctx.db, {
      id: jti, tenant_id: tenant.id, user_id: userId, expires_at: exp * 1000, revoked_at: null, created_at: now, room_id: roomId ?? null,
    });
  } catch (err) {
    if (isForeignKeyViolation(err)) throw notFound('User'); // deleted meanwhile
    throw err;
  }
  return { token, token_id: jti, user_id: userId, expires_at: iso(exp * 1000) };
}

async function mint(ctx: Ctx, caller: Caller, userId: string, input: { ttl_seconds?: number }) {
  if (caller.kind !== 'tenant') throw new DomainError('AUTHORIZATION_ERROR', 'Only the tenant key may mint user tokens');
  const tenant = await loadTenantRow(ctx, caller.tenantId);
  if (!tenant) throw notFound('Tenant');
  const user = typeof userId === 'string' ? await userStore.findUser(ctx.db, tenant.id, userId) : undefined;
  if (!user) throw notFound('User');
  const ban = banOf(user, ctx.now());
  if (ban) throw new DomainError('AUTHORIZATION_ERROR', bannedMessage(ban.until));
  const settings = JSON.parse(tenant.settings) as TenantSettings;
  const ttl = input.ttl_seconds === undefined
    ? settings.default_token_ttl_seconds
    : checkInt('ttl_seconds', input.ttl_seconds, 1, settings.max_token_ttl_seconds);
  return issueToken(ctx, tenant, user.id, ttl);
}

/** The tenant key may revoke any of its tokens; a user only their own. Others' tokens are NOT_FOUND. */
async function revoke(ctx: Ctx, caller: Caller, tokenId: string, userId?: string) {
  const row = typeof tokenId === 'string' ? await tokenStore.findToken(ctx.db, caller.tenantId, tokenId) : undefined;
  const visible = row && (caller.kind === 'tenant' || caller.user.id === row.user_id) && (userId === undefined || userId === row.user_id);
  if (!row || !visible) throw notFound('Token');
  await tokenStore.revokeToken(ctx.db, caller.tenantId, row.id, ctx.now());
  endSessions(ctx, caller.tenantId, { kind: 'tokens', token_ids: [row.id] });
}

export function tokensApi(ctx: Ctx): Domain['tokens'] {
  const reads = verifyReads(ctx);
  return {
    mint: (caller, userId, input) => mint(ctx, caller, userId, input),
    revoke: (caller, tokenId, userId) => revoke(ctx, caller, tokenId, userId),
    verify: (token) => verify(ctx, reads, token),
  };
}

/**
 * End-user accounts (OWASP Authentication cheat sheet): register, login, refresh-token rotation
 * with reuse detection, logout, and guests. Attempts are throttled before any hashing; an unknown
 * username is verified against a dummy hash so it costs what a wrong password costs.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import * as store from '../store/accounts.ts';
import { revokeTokens } from '../store/tokens.ts';
import * as userStore from '../store/users.ts';
import type { TenantRow } from '../store/tenants.ts';
import { assertFlow, type AuthSettings, type Flow } from './auth-settings.ts';
import { tooManyAttempts } from './attempts.ts';
import type { Ctx } from './context.ts';
import { DomainError, notFound } from './errors.ts';
import { userOut } from './mappers.ts';
import { checkPassword, dummyHash } from './passwords.ts';
import type { TenantSettings } from './shapes.ts';
import { loadTenantRow } from './tenants.ts';
import { blockedFor, throttles } from './throttles.ts';
import { issueToken } from './tokens.ts';
import type { ClientInfo, Domain } from './types.ts';
import { checkOptionalText, checkText, iso } from './validate.ts';
import { usersApi } from './users.ts';
import { endSessions } from './sessions.ts';

const REFRESH_PREFIX = 'rt_';
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const badLogin = () => new DomainError('AUTHENTICATION_ERROR', 'Invalid username or password');
const badRefresh = () => new DomainError('AUTHENTICATION_ERROR', 'Invalid refresh token');

async function tenantWithFlow(ctx: Ctx, tenantId: string, flow: Flow): Promise<{ tenant: TenantRow; auth: AuthSettings }> {
  const tenant = await loadTenantRow(ctx, tenantId);
  if (!tenant) throw notFound('Tenant');
  return { tenant, auth: assertFlow(JSON.parse(tenant.settings) as TenantSettings, flow) };
}

/** A user token plus a fresh refresh token in `familyId` (a new family on login). */
async function session(ctx: Ctx, tenant: TenantRow, auth: AuthSettings, user: userStore.UserRow, familyId: string = randomUUID()) {
  const access = await issueToken(ctx, tenant, user.id, auth.access_token_ttl_seconds);
  const refresh = REFRESH_PREFIX + randomBytes(32).toString('base64url');
  const now = ctx.now();
  const expires = now + auth.refresh_token_ttl_seconds * 1000;
  await store.insertRefresh(ctx.db, {
    id: randomUUID(), tenant_id: tenant.id, user_id: user.id, family_id: familyId, token_hash: sha256(refresh),
    access_token_id: access.token_id, expires_at: expires, used_at: null, revoked_at: null, created_at: now,
  });
  return { user: userOut(user), access_token: access, refresh_token: refresh, refresh_expires_at: iso(expires) };
}

async function register(ctx: Ctx, tenantId: string, input: Parameters<Domain['accounts']['register']>[1], client: ClientInfo) {
  const { tenant, auth } = await tenantWithFlow(ctx, tenantId, 'password');
  const username = checkText('username', input.username, 100).trim();
  const password = checkPassword(input.password);
  const wait = await throttles(ctx).signup.count(client.ip);
  if (wait) throw tooManyAttempts(wait, 'Too many sign-ups from this address');
  const users = usersApi(ctx);
  const user = await users.create({ kind: 'tenant', tenantId }, { id: randomUUID(), username, email: input.email, display_name: input.display_name });
  const hash = await ctx.hasher.hash(password);
  await store.insertPassword(ctx.db, { tenant_id: tenantId, user_id: user.id, hash, created_at: ctx.now() });
  const row = await userStore.findUser(ctx.db, tenantId, user.id);
  if (!row) throw notFound('User');
  return session(ctx, tenant, auth, row);
}

async function login(ctx: Ctx, tenantId: string, input: { username: string; password: string }, client: ClientInfo) {
  const { tenant, auth } = await tenantWithFlow(ctx, tenantId, 'password');
  const username = typeof input.username === 'string' ? input.username.trim() : '';
  const password = typeof input.password === 'string' ? input.password : '';
  const t = throttles(ctx);
  const userKey = `${tenantId}:${username.toLowerCase()}`;
  // Before any hashing: a throttled attempt costs a counter read, nothing more.
  const wait = await blockedFor([[t.loginUser, userKey], [t.ip, client.ip]]);
  if (wait) throw tooManyAttempts(wait, 'Too many failed sign-in attempts');
  const user = username ? await userStore.findUserByUsername(ctx.db, tenantId, username) : undefined;
  const stored = user && (await store.findPasswordHash(ctx.db, tenantId, user.id));
  const matches = await ctx.hasher.verify(stored ?? (await dummy(ctx)), password);
  if (!user || !stored || !matches || isExpired(ctx, user)) {
    await Promise.all([t.loginUser.fail(userKey), t.ip.fail(client.ip)]);
    throw badLogin();
  }
  await t.loginUser.reset(userKey);
  return session(ctx, tenant, auth, user);
}

const dummies = new WeakMap<Ctx, () => Promise<string>>();
function dummy(ctx: Ctx): Promise<string> {
  let make = dummies.get(ctx);
  if (!make) dummies.set(ctx, (make = dummyHash(ctx.hasher)));
  return make();
}

const isExpired = (ctx: Ctx, user: userStore.UserRow) => user.expires_at != null && user.expires_at <= ctx.now();

/** Revokes the family and the user tokens issued in it; their sessions end on every node. */
async function revokeFamily(ctx: Ctx, tenantId: string, familyId: string): Promise<void> {
  const now = ctx.now();
  const tokenIds = await store.revokeFamily(ctx.db, tenantId, familyId, now);
  await revokeTokens(ctx.db, tenantId, tokenIds, now);
  if (tokenIds.length) endSessions(ctx, tenantId, { kind: 'tokens', token_ids: tokenIds });
}

async function findRefresh(ctx: Ctx, tenantId: string, token: string): Promise<store.RefreshRow | undefined> {
  if (typeof token !== 'string' || !token.startsWith(REFRESH_PREFIX) || token.length > 200) return undefined;
  const row = await store.findRefreshByHash(ctx.db, sha256(token));
  return row && row.tenant_id === tenantId ? row : undefined;
}

async function refresh(ctx: Ctx, tenantId: string, token: string, client: ClientInfo) {
  const { tenant, auth } = await tenantWithFlow(ctx, tenantId, 'password');
  const t = throttles(ctx);
  const wait = await t.ip.blockedForMs(client.ip);
  if (wait) throw tooManyAttempts(wait, 'Too many failed attempts');
  const row = await findRefresh(ctx, tenantId, token);
  if (!row) {
    await t.ip.fail(client.ip);
    throw badRefresh();
  }
  if (row.revoked_at !== null || row.used_at !== null || (await store.markRefreshUsed(ctx.db, row.id, ctx.now())) === 0) {
    // Reuse of a used refresh token: someone holds a copy. End the whole family.
    await revokeFamily(ctx, tenantId, row.family_id);
    throw new DomainError('AUTHENTICATION_ERROR', 'Refresh token was already used; every session of this login has been revoked');
  }
  const user = await userStore.findUser(ctx.db, tenantId, row.user_id);
  if (row.expires_at <= ctx.now() || !user || isExpired(ctx, user)) throw badRefresh();
  return session(ctx, tenant, auth, user, row.family_id);
}

async function logout(ctx: Ctx, tenantId: string, token: string): Promise<void> {
  await tenantWithFlow(ctx, tenantId, 'password');
  const row = await findRefresh(ctx, tenantId, token);
  if (row) await revokeFamily(ctx, tenantId, row.family_id);
}

async function guest(ctx: Ctx, tenantId: string, input: { display_name?: string | null }, client: ClientInfo) {
  const { tenant, auth } = await tenantWithFlow(ctx, tenantId, 'guest');
  const displayName = checkOptionalText('display_name', input.display_name, 200) ?? null;
  const wait = await throttles(ctx).signup.count(client.ip);
  if (wait) throw tooManyAttempts(wait, 'Too many sign-ups from this address');
  const now = ctx.now();
  const expires = (Math.floor(now / 1000) + auth.guest_ttl_seconds) * 1000; // the token's exp, to the second
  const id = `guest_${randomUUID()}`;
  const row: userStore.UserRow = {
    tenant_id: tenantId, id, username: id, email: null, display_name: displayName, role: 'guest',
    permissions: JSON.stringify(auth.guest_permissions), created_at: now, updated_at: now, expires_at: expires,
  };
  await userStore.insertUser(ctx.db, row);
  const access = await issueToken(ctx, tenant, id, auth.guest_ttl_seconds);
  return { user: userOut(row), access_token: access, expires_at: iso(expires) };
}

async function purgeExpiredGuests(ctx: Ctx): Promise<number> {
  const expired = await userStore.expiredGuests(ctx.db, ctx.now(), 500);
  const users = usersApi(ctx);
  for (const g of expired) {
    await users.remove({ kind: 'tenant', tenantId: g.tenant_id }, g.id).catch((err) => {
      if (!(err instanceof DomainError && err.code === 'NOT_FOUND')) throw err;
    });
  }
  return expired.length;
}

export function accountsApi(ctx: Ctx): Domain['accounts'] {
  return {
    register: (tenantId, input, client) => register(ctx, tenantId, input, client),
    login: (tenantId, input, client) => login(ctx, tenantId, input, client),
    refresh: (tenantId, token, client) => refresh(ctx, tenantId, token, client),
    logout: (tenantId, token) => logout(ctx, tenantId, token),
    guest: (tenantId, input, client) => guest(ctx, tenantId, input, client),
    purgeExpiredGuests: () => purgeExpiredGuests(ctx),
  };
}


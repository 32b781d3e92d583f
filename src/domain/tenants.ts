/** Tenants: the platform operator's side (X-Master-Key), plus API key authentication. */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import * as store from '../store/tenants.ts';
import type { Ctx } from './context.ts';
import { authSettingsOf, defaultAuthSettings, mergeAuthSettings } from './auth-settings.ts';
import { DomainError, notFound } from './errors.ts';
import { tenantOut } from './mappers.ts';
import type { TenantSettings } from './shapes.ts';
import { assertTenantAdmin, MASTER, type Admin } from './tenant-admin.ts';
import type { Domain, Page } from './types.ts';
import { checkInt, checkText, checkWellFormed, codePoints, invalid, isPlainObject, paginate, readPage } from './validate.ts';
import { endSessions } from './sessions.ts';

const KEY_PREFIX = 'ck_';
const DEFAULT_TOKEN_TTL = 3600;
const DEFAULT_MAX_TOKEN_TTL = 30 * 24 * 3600;
const MAX_TOKEN_TTL_CAP = 365 * 24 * 3600;

/** API keys are 256-bit random secrets: a fast hash is enough (no dictionary to guard against). */
export const hashApiKey = (key: string): string => createHash('sha256').update(key).digest('hex');
const newApiKey = (): string => KEY_PREFIX + randomBytes(32).toString('base64url');

function defaultSettings(ctx: Ctx): TenantSettings {
  return {
    rate_limit_per_second: ctx.config.rateLimitPerSecond,
    rate_limit_burst: ctx.config.rateLimitBurst,
    default_token_ttl_seconds: DEFAULT_TOKEN_TTL,
    max_token_ttl_seconds: DEFAULT_MAX_TOKEN_TTL,
    allowed_origins: [],
    auth: defaultAuthSettings(),
    ticket_categories: [],
  };
}

/** What a tenant may change about itself; the rest (name, limits, token lifetimes) is the operator's. */
const SELF_SERVICE_SETTINGS = new Set(['auth', 'allowed_origins']);

function assertMayPatch(admin: Admin, patch: { name?: string; settings?: object }): void {
  if (admin.kind === 'master') return;
  const forbidden = [
    ...(patch.name !== undefined ? ['name'] : []),
    ...Object.keys(patch.settings ?? {}).filter((k) => !SELF_SERVICE_SETTINGS.has(k)).map((k) => `settings.${k}`),
  ];
  if (forbidden.length) {
    throw new DomainError('AUTHORIZATION_ERROR', `Only the operator may change ${forbidden.join(', ')}`, forbidden.map((field) => ({ field, message: 'operator only' })));
  }
}

/** Applies a partial settings patch over `base`, checking each field and their relation. */
export function mergeSettings(base: TenantSettings, patch: unknown): TenantSettings {
  if (patch === undefined) return base;
  if (!isPlainObject(patch)) throw invalid('settings', 'must be an object');
  const out: TenantSettings = { ...base, ticket_categories: base.ticket_categories ?? [] };
  for (const [key, value] of Object.entries(patch)) {
    const field = `settings.${key}`;
    switch (key) {
      case 'rate_limit_per_second':
      case 'rate_limit_burst':
        out[key] = checkInt(field, value, 1, 100_000);
        break;
      case 'default_token_ttl_seconds':
      case 'max_token_ttl_seconds':
        out[key] = checkInt(field, value, 60, MAX_TOKEN_TTL_CAP);
        break;
      case 'allowed_origins':
        out.allowed_origins = checkOrigins(field, value);
        break;
      case 'auth':
        out.auth = mergeAuthSettings(authSettingsOf(base), value);
        break;
      case 'ticket_categories':
        out.ticket_categories = checkCategories(field, value);
        break;
      default:
        throw invalid(field, 'is not a tenant setting');
    }
  }
  if (out.default_token_ttl_seconds > out.max_token_ttl_seconds) {
    throw invalid('settings.default_token_ttl_seconds', 'must not exceed max_token_ttl_seconds');
  }
  return out;
}

function checkCategories(field: string, value: unknown): string[] {
  if (!Array.isArray(value) || value.length > 100) throw invalid(field, 'must be an array of at most 100 categories');
  const out = value.map((c, i) => checkText(`${field}[${i}]`, c, 64));
  if (new Set(out).size !== out.length) throw invalid(field, 'must not repeat a category');
  return out;
}

function checkOrigins(field: string, value: unknown): string[] {
  if (!Array.isArray(value) || value.length > 100) throw invalid(field, 'must be an array of at most 100 origins');
  return value.map((o, i) => {
    // Code points, as the schema's maxLength counts (an emoji in an IDN origin is one character).
    if (typeof o !== 'string' || o.length === 0 || codePoints(o) > 200) throw invalid(`${field}[${i}]`, 'must be an origin string of 1-200 characters');
    return checkWellFormed(`${field}[${i}]`, o);
  });
}

async function load(ctx: Ctx, id: string): Promise<store.TenantRow> {
  const row = typeof id === 'string' ? await store.findTenant(ctx.db, id) : undefined;
  if (!row) throw notFound('Tenant');
  return row;
}

export function tenantsApi(ctx: Ctx): Domain['tenants'] {
  return {
    async create(input) {
      const name = checkText('name', input.name, 200).trim();
      const settings = mergeSettings(defaultSettings(ctx), input.settings);
      const apiKey = newApiKey();
      const now = ctx.now();
      const row: store.TenantRow = {
        id: randomUUID(),
        name,
        api_key_hash: hashApiKey(apiKey),
        jwt_secret: randomBytes(32).toString('base64url'),
        settings: JSON.stringify(settings),
        created_at: now,
        updated_at: now,
      };
      await store.insertTenant(ctx.db, row);
      return { tenant: tenantOut(row), api_key: apiKey };
    },

    async list(page: Page) {
      const { limit, after } = readPage<[number, string]>(page, ['number', 'string']);
      const rows = await store.listTenants(ctx.db, after, limit + 1);
      return paginate(rows, limit, tenantOut, (r) => [r.created_at, r.id]);
    },

    async get(id, admin = MASTER) {
      assertTenantAdmin(admin, id);
      return tenantOut(await load(ctx, id));
    },

    async update(id, patch, admin = MASTER) {
      assertTenantAdmin(admin, id);
      assertMayPatch(admin, patch);
      const row = await load(ctx, id);
      const changes: Partial<store.TenantRow> = { updated_at: ctx.now() };
      if (patch.name !== undefined) changes.name = checkText('name', patch.name, 200).trim();
      if (patch.settings !== undefined) {
        changes.settings = JSON.stringify(mergeSettings(JSON.parse(row.settings) as TenantSettings, patch.settings));
      }
      await store.updateTenant(ctx.db, id, changes);
      return tenantOut({ ...row, ...changes });
    },

    async remove(id) {
      if ((await store.deleteTenant(ctx.db, id)) === 0) throw notFound('Tenant');
      endSessions(ctx, id, { kind: 'tenant' });
    },

    async rotateKey(id) {
      const row = await load(ctx, id);
      const apiKey = newApiKey();
      const changes = { api_key_hash: hashApiKey(apiKey), updated_at: ctx.now() };
      // The old hash is overwritten, so the old key stops working at once.
      if ((await store.updateTenant(ctx.db, id, changes)) === 0) throw notFound('Tenant');
      endSessions(ctx, id, { kind: 'api_key' });
      return { tenant: tenantOut({ ...row, ...changes }), api_key: apiKey };
    },

    async authenticateKey(apiKey) {
      if (typeof apiKey !== 'string' || !apiKey.startsWith(KEY_PREFIX) || apiKey.length > 200) return null;
      const row = await store.findTenantByKeyHash(ctx.db, hashApiKey(apiKey));
      return row ? tenantOut(row) : null;
    },
  };
}

/** Internal: the tenant row including its JWT secret (tokens.ts signs and verifies with it). */
export async function loadTenantRow(ctx: Ctx, id: string): Promise<store.TenantRow | undefined> {
  return store.findTenant(ctx.db, id);
}

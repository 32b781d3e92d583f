/**
 * Per-tenant end-user sign-in settings (spec/schemas/auth-settings.yaml): which flows are on (all
 * off by default), the guests' lifetime and permissions, and the lifetimes of the tokens minted.
 */
import { DomainError } from './errors.ts';
import { checkPermissions, defaultPermissions } from './permissions.ts';
import type { TenantSettings } from './shapes.ts';
import { checkInt, invalid, isPlainObject } from './validate.ts';

export type AuthSettings = TenantSettings['auth'];
export type Flow = keyof AuthSettings['flows'];

const FLOWS: readonly Flow[] = ['password', 'guest', 'email_code', 'invites'];

export function defaultAuthSettings(): AuthSettings {
  return {
    flows: { password: false, guest: false, email_code: false, invites: false },
    guest_ttl_seconds: 24 * 3600,
    guest_permissions: defaultPermissions('user'),
    access_token_ttl_seconds: 15 * 60,
    refresh_token_ttl_seconds: 30 * 24 * 3600,
    room_token_ttl_seconds: 24 * 3600,
  };
}

const BOUNDS = {
  guest_ttl_seconds: [60, 30 * 24 * 3600],
  access_token_ttl_seconds: [60, 24 * 3600],
  refresh_token_ttl_seconds: [3600, 365 * 24 * 3600],
  room_token_ttl_seconds: [60, 30 * 24 * 3600],
} as const;

/** Settings stored before this field existed read as the defaults. */
export function authSettingsOf(settings: Partial<TenantSettings>): AuthSettings {
  const base = defaultAuthSettings();
  const stored = settings.auth;
  if (!stored) return base;
  return { ...base, ...stored, flows: { ...base.flows, ...stored.flows }, guest_permissions: { ...base.guest_permissions, ...stored.guest_permissions } };
}

export function mergeAuthSettings(base: AuthSettings, patch: unknown): AuthSettings {
  if (!isPlainObject(patch)) throw invalid('settings.auth', 'must be an object');
  const out: AuthSettings = { ...base, flows: { ...base.flows } };
  for (const [key, value] of Object.entries(patch)) {
    const field = `settings.auth.${key}`;
    if (key === 'flows') out.flows = mergeFlows(out.flows, value);
    else if (key === 'guest_permissions') out.guest_permissions = { ...out.guest_permissions, ...checkPermissions(value, field) };
    else if (key in BOUNDS) {
      const [min, max] = BOUNDS[key as keyof typeof BOUNDS];
      out[key as keyof typeof BOUNDS] = checkInt(field, value, min, max);
    } else throw invalid(field, 'is not an auth setting');
  }
  return out;
}

function mergeFlows(base: AuthSettings['flows'], patch: unknown): AuthSettings['flows'] {
  if (!isPlainObject(patch)) throw invalid('settings.auth.flows', 'must be an object');
  const out = { ...base };
  for (const [key, value] of Object.entries(patch)) {
    if (!FLOWS.includes(key as Flow)) throw invalid(`settings.auth.flows.${key}`, `is not a flow (${FLOWS.join(', ')})`);
    if (typeof value !== 'boolean') throw invalid(`settings.auth.flows.${key}`, 'must be true or false');
    out[key as Flow] = value;
  }
  return out;
}

/** A flow that is switched off does not exist for the tenant's callers. */
export function assertFlow(settings: Partial<TenantSettings>, flow: Flow): AuthSettings {
  const auth = authSettingsOf(settings);
  if (!auth.flows[flow]) throw new DomainError('NOT_FOUND', 'Not found');
  return auth;
}

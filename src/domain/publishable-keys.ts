/**
 * Publishable keys (`X-Publishable-Key`): a second, browser-safe kind of tenant key. It can only
 * make the sign-in calls, and only from an allowed Origin (checked by the HTTP layer against the
 * tenant's allowed_origins). 256-bit random secrets, stored as SHA-256 like API keys.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import * as store from '../store/publishable-keys.ts';
import { findTenant } from '../store/tenants.ts';
import type { Ctx } from './context.ts';
import { DomainError, notFound } from './errors.ts';
import { tenantOut } from './mappers.ts';
import { assertTenantAdmin, type Admin } from './tenant-admin.ts';
import { hashApiKey } from './tenants.ts';
import type { Domain } from './types.ts';
import { iso, isoOrNull } from './validate.ts';
import { endSessions } from './sessions.ts';

const PREFIX = 'pk_';
const MAX_KEYS = 10;

const newSecret = () => PREFIX + randomBytes(32).toString('base64url');

export const publishableKeyOut = (r: store.PublishableKeyRow) => ({
  id: r.id, prefix: r.prefix, created_at: iso(r.created_at), rotated_at: isoOrNull(r.rotated_at),
});

async function tenantFor(ctx: Ctx, admin: Admin, tenantId: string): Promise<string> {
  assertTenantAdmin(admin, tenantId);
  if (typeof tenantId !== 'string' || !(await findTenant(ctx.db, tenantId))) throw notFound('Tenant');
  return tenantId;
}

async function create(ctx: Ctx, admin: Admin, tenantId: string) {
  await tenantFor(ctx, admin, tenantId);
  if ((await store.listKeys(ctx.db, tenantId)).length >= MAX_KEYS) {
    throw new DomainError('CONFLICT', `A tenant may have at most ${MAX_KEYS} publishable keys; revoke one first`);
  }
  const secret = newSecret();
  const row: store.PublishableKeyRow = {
    id: randomUUID(), tenant_id: tenantId, key_hash: hashApiKey(secret), prefix: secret.slice(0, 11), created_at: ctx.now(), rotated_at: null,
  };
  await store.insertKey(ctx.db, row);
  return { key: publishableKeyOut(row), publishable_key: secret };
}

async function rotate(ctx: Ctx, admin: Admin, tenantId: string, keyId: string) {
  await tenantFor(ctx, admin, tenantId);
  const row = typeof keyId === 'string' ? await store.findKey(ctx.db, tenantId, keyId) : undefined;
  if (!row) throw notFound('Publishable key');
  const secret = newSecret();
  const patch = { key_hash: hashApiKey(secret), prefix: secret.slice(0, 11), rotated_at: ctx.now() };
  if ((await store.updateKey(ctx.db, tenantId, row.id, patch)) === 0) throw notFound('Publishable key');
  endSessions(ctx, tenantId, { kind: 'publishable_key', key_id: row.id });
  return { key: publishableKeyOut({ ...row, ...patch }), publishable_key: secret };
}

async function revoke(ctx: Ctx, admin: Admin, tenantId: string, keyId: string) {
  await tenantFor(ctx, admin, tenantId);
  if (typeof keyId !== 'string' || (await store.deleteKey(ctx.db, tenantId, keyId)) === 0) throw notFound('Publishable key');
  endSessions(ctx, tenantId, { kind: 'publishable_key', key_id: keyId });
}

export function publishableKeysApi(ctx: Ctx): Domain['publishableKeys'] {
  return {
    create: (admin, tenantId) => create(ctx, admin, tenantId),
    async list(admin, tenantId) {
      await tenantFor(ctx, admin, tenantId);
      return { items: (await store.listKeys(ctx.db, tenantId)).map(publishableKeyOut) };
    },
    rotate: (admin, tenantId, keyId) => rotate(ctx, admin, tenantId, keyId),
    revoke: (admin, tenantId, keyId) => revoke(ctx, admin, tenantId, keyId),
    async authenticate(secret) {
      if (typeof secret !== 'string' || !secret.startsWith(PREFIX) || secret.length > 200) return null;
      const key = await store.findKeyByHash(ctx.db, hashApiKey(secret));
      const tenant = key && (await findTenant(ctx.db, key.tenant_id));
      return key && tenant ? { tenant: tenantOut(tenant), keyId: key.id } : null;
    },
  };
}

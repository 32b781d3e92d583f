/**
 * Who may manage a tenant's own settings and publishable keys: the operator (master key) for any
 * tenant; the tenant itself (its key alone) or one of its admins for that tenant only. Another
 * tenant's id answers NOT_FOUND, so tenants never learn of each other.
 */
import { DomainError, notFound } from './errors.ts';
import { isAdmin } from './permissions.ts';
import type { Caller } from './types.ts';

export type Admin = { kind: 'master' } | Caller;

export const MASTER: Admin = { kind: 'master' };

export function assertTenantAdmin(admin: Admin, tenantId: string): void {
  if (admin.kind === 'master') return;
  if (admin.tenantId !== tenantId) throw notFound('Tenant');
  if (admin.kind === 'user' && !isAdmin(admin.user.role)) {
    throw new DomainError('AUTHORIZATION_ERROR', "Only the tenant key or a tenant admin may manage the tenant's settings and keys");
  }
}

/** Tenants: the operator's operations (X-Master-Key); a tenant may read and tune itself (its key or an admin). */
import type { CreateTenantRequest, UpdateTenantRequest } from '../../domain/wire.ts';
import { MASTER, type Admin } from '../../domain/tenant-admin.ts';
import { callerOf, created, deleted, ok, page, type HttpDeps, type OperationMap, type OperationRequest } from '../operation.ts';

/** The operator when the master key was presented, else the tenant or user the credentials name. */
export const adminOf = (req: OperationRequest): Admin => (req.auth.master ? MASTER : callerOf(req));

export function tenantHandlers({ domain }: HttpDeps): OperationMap {
  return {
    createTenant: async (req: OperationRequest<CreateTenantRequest>) => created(await domain.tenants.create(req.body)),
    listTenants: async (req) => ok(await domain.tenants.list(page(req))),
    getTenant: async (req) => ok(await domain.tenants.get(req.params.tenant_id, adminOf(req))),
    updateTenant: async (req: OperationRequest<UpdateTenantRequest>) =>
      ok(await domain.tenants.update(req.params.tenant_id, req.body, adminOf(req))),
    deleteTenant: async (req) => {
      await domain.tenants.remove(req.params.tenant_id);
      return deleted(req.params.tenant_id);
    },
    rotateTenantKey: async (req) => created(await domain.tenants.rotateKey(req.params.tenant_id)),
  };
}

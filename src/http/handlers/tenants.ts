/** Tenants: the platform operator's operations (X-Master-Key). */
import type { CreateTenantRequest, UpdateTenantRequest } from '../../domain/wire.ts';
import { created, deleted, ok, page, type HttpDeps, type OperationMap, type OperationRequest } from '../operation.ts';

export function tenantHandlers({ domain }: HttpDeps): OperationMap {
  return {
    createTenant: async (req: OperationRequest<CreateTenantRequest>) => created(await domain.tenants.create(req.body)),
    listTenants: async (req) => ok(await domain.tenants.list(page(req))),
    getTenant: async (req) => ok(await domain.tenants.get(req.params.tenant_id)),
    updateTenant: async (req: OperationRequest<UpdateTenantRequest>) => ok(await domain.tenants.update(req.params.tenant_id, req.body)),
    deleteTenant: async (req) => {
      await domain.tenants.remove(req.params.tenant_id);
      return deleted(req.params.tenant_id);
    },
    rotateTenantKey: async (req) => created(await domain.tenants.rotateKey(req.params.tenant_id)),
  };
}

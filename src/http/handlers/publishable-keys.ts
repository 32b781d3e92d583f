/** A tenant's publishable keys (browser-safe, sign-in calls only). */
import { created, deleted, ok, type HttpDeps, type OperationMap } from '../operation.ts';
import { adminOf } from './tenants.ts';

export function publishableKeyHandlers({ domain }: HttpDeps): OperationMap {
  return {
    createPublishableKey: async (req) => created(await domain.publishableKeys.create(adminOf(req), req.params.tenant_id)),
    listPublishableKeys: async (req) => ok(await domain.publishableKeys.list(adminOf(req), req.params.tenant_id)),
    rotatePublishableKey: async (req) => created(await domain.publishableKeys.rotate(adminOf(req), req.params.tenant_id, req.params.key_id)),
    revokePublishableKey: async (req) => {
      await domain.publishableKeys.revoke(adminOf(req), req.params.tenant_id, req.params.key_id);
      return deleted(req.params.key_id);
    },
  };
}

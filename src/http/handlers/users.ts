/** Users, user tokens and the caller's own identity. */
import type { CreateUserRequest, MintTokenRequest, UpdateUserRequest } from '../../domain/wire.ts';
import {
  callerOf, created, deleted, ok, page, userCallerOf,
  type HttpDeps, type OperationMap, type OperationRequest,
} from '../operation.ts';

export function userHandlers({ domain }: HttpDeps): OperationMap {
  return {
    createUser: async (req: OperationRequest<CreateUserRequest>) => created(await domain.users.create(callerOf(req), req.body)),
    listUsers: async (req) => ok(await domain.users.list(callerOf(req), page(req))),
    getUser: async (req) => ok(await domain.users.get(callerOf(req), req.params.user_id)),
    updateUser: async (req: OperationRequest<UpdateUserRequest>) =>
      ok(await domain.users.update(callerOf(req), req.params.user_id, req.body)),
    deleteUser: async (req) => {
      await domain.users.remove(callerOf(req), req.params.user_id);
      return deleted(req.params.user_id);
    },
    mintUserToken: async (req: OperationRequest<MintTokenRequest | undefined>) =>
      created(await domain.tokens.mint(callerOf(req), req.params.user_id, req.body ?? {})),
    revokeUserToken: async (req) => {
      await domain.tokens.revoke(callerOf(req), req.params.token_id, req.params.user_id);
      return deleted(req.params.token_id);
    },
    getMe: async (req) => {
      const me = userCallerOf(req);
      return ok({ ...me.user, unread_notifications: await domain.notifications.unreadCount(me.tenantId, me.user.id) });
    },
  };
}

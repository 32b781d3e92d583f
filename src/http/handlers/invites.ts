/** Join links: create, list and revoke a room's invites; join a room with one. */
import { created, deleted, ok, callerOf, type HttpDeps, type OperationMap } from '../operation.ts';
import { clientOf } from './auth.ts';

export function inviteHandlers({ domain }: HttpDeps): OperationMap {
  return {
    createRoomInvite: async (req) => created(await domain.invites.create(callerOf(req), req.params.room_id, req.body ?? {})),
    listRoomInvites: async (req) => ok(await domain.invites.list(callerOf(req), req.params.room_id)),
    revokeRoomInvite: async (req) => {
      await domain.invites.revoke(callerOf(req), req.params.room_id, req.params.invite_id);
      return deleted(req.params.invite_id);
    },
    joinRoom: async (req) => ok(await domain.invites.join(callerOf(req), req.params.code, req.body ?? {}, clientOf(req))),
  };
}

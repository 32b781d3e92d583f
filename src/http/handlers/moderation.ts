/** Moderation: bans, mutes, purges, archiving, members one by one, tenant-wide bans. */
import type { components } from '../../../generated/openapi.d.ts';
import {
  callerOf, created, deleted, ok, page, userCallerOf, type HttpDeps, type OperationMap, type OperationRequest,
} from '../operation.ts';

type Schemas = components['schemas'];

export function moderationHandlers({ domain }: HttpDeps): OperationMap {
  return {
    banRoomMember: async (req: OperationRequest<Schemas['BanRequest']>) => created(await domain.moderation.ban(userCallerOf(req), req.params.room_id, req.body)),
    listRoomBans: async (req) => ok(await domain.moderation.listBans(userCallerOf(req), req.params.room_id, page(req))),
    unbanRoomMember: async (req) => {
      await domain.moderation.unban(userCallerOf(req), req.params.room_id, req.params.user_id);
      return deleted(req.params.user_id);
    },
    muteRoomMember: async (req: OperationRequest<Schemas['MuteRequest']>) => ok(await domain.moderation.mute(userCallerOf(req), req.params.room_id, req.body)),
    unmuteRoomMember: async (req) => {
      await domain.moderation.unmute(userCallerOf(req), req.params.room_id, req.params.user_id);
      return deleted(req.params.user_id);
    },
    purgeRoomMessages: async (req: OperationRequest<Schemas['PurgeRequest']>) => ok(await domain.moderation.purge(userCallerOf(req), req.params.room_id, req.body)),
    archiveRoom: async (req) => ok(await domain.rooms.archive(userCallerOf(req), req.params.room_id)),
    unarchiveRoom: async (req) => ok(await domain.rooms.unarchive(userCallerOf(req), req.params.room_id)),
    getRoomMember: async (req) => ok(await domain.rooms.getMember(userCallerOf(req), req.params.room_id, req.params.user_id)),
    updateRoomMember: async (req: OperationRequest<Schemas['UpdateMemberRequest']>) =>
      ok(await domain.rooms.updateMember(userCallerOf(req), req.params.room_id, req.params.user_id, req.body)),
    banUser: async (req: OperationRequest<Schemas['UserBanRequest']>) => ok(await domain.moderation.banUser(callerOf(req), req.params.user_id, req.body)),
    unbanUser: async (req) => {
      await domain.moderation.unbanUser(callerOf(req), req.params.user_id);
      return deleted(req.params.user_id);
    },
  };
}

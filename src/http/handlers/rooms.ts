/** Rooms and their members. */
import type { AddMemberRequest, CreateRoomRequest, UpdateRoomRequest } from '../../domain/wire.ts';
import {
  created, deleted, ok, page, userCallerOf,
  type HttpDeps, type OperationMap, type OperationRequest,
} from '../operation.ts';
import { boolParam } from './tickets.ts';

export function roomHandlers({ domain }: HttpDeps): OperationMap {
  return {
    createRoom: async (req: OperationRequest<CreateRoomRequest>) => {
      const { room, created: isNew } = await domain.rooms.create(userCallerOf(req), req.body);
      return isNew ? created(room) : ok(room);
    },
    listRooms: async (req) => ok(await domain.rooms.list(userCallerOf(req), page(req), { includeArchived: boolParam(req.query.include_archived) === true })),
    getRoom: async (req) => ok(await domain.rooms.get(userCallerOf(req), req.params.room_id)),
    updateRoom: async (req: OperationRequest<UpdateRoomRequest>) =>
      ok(await domain.rooms.update(userCallerOf(req), req.params.room_id, req.body)),
    deleteRoom: async (req) => {
      await domain.rooms.remove(userCallerOf(req), req.params.room_id);
      return deleted(req.params.room_id);
    },
    listRoomMembers: async (req) => ok(await domain.rooms.listMembers(userCallerOf(req), req.params.room_id, page(req))),
    addRoomMember: async (req: OperationRequest<AddMemberRequest>) =>
      created(await domain.rooms.addMember(userCallerOf(req), req.params.room_id, req.body)),
    removeRoomMember: async (req) => {
      await domain.rooms.removeMember(userCallerOf(req), req.params.room_id, req.params.user_id);
      return deleted(req.params.user_id);
    },
  };
}

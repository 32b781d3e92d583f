/** GET /v1/rooms/{room_id}/presence: members' presence now (live changes are WebSocket frames). */
import type { PresenceEntry } from '../../domain/wire.ts';
import { ok, page, userCallerOf, type HttpDeps, type OperationMap } from '../operation.ts';

export function presenceHandlers({ domain, presence }: HttpDeps): OperationMap {
  return {
    getRoomPresence: async (req) => {
      const caller = userCallerOf(req);
      // Listing members checks that the caller is one (non-members get NOT_FOUND).
      const members = await domain.rooms.listMembers(caller, req.params.room_id, page(req));
      const ids = members.items.map((m) => m.user_id);
      const online = presence ? await presence.online(caller.tenantId, ids) : new Set<string>();
      const items: PresenceEntry[] = ids.map((user_id) => ({ user_id, status: online.has(user_id) ? 'online' : 'offline' }));
      return ok({ items, next_cursor: members.next_cursor });
    },
  };
}

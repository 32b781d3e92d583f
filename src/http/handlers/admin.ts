/** The admin panel: conversations, figures, any room's messages, the audit log (staff roles). */
import { intParam, ok, page, strParam, userCallerOf, type HttpDeps, type OperationMap } from '../operation.ts';
import { boolParam } from './tickets.ts';

export function adminHandlers({ domain }: HttpDeps): OperationMap {
  return {
    listConversations: async (req) => {
      const q = req.query;
      return ok(await domain.admin.listConversations(userCallerOf(req), {
        type: strParam(q.type), member_id: strParam(q.member_id), status: strParam(q.status),
        active_after: strParam(q.active_after), active_before: strParam(q.active_before), include_total: boolParam(q.include_total),
        limit: intParam(q.limit), cursor: strParam(q.cursor),
      }));
    },
    getAdminStats: async (req) => ok(await domain.admin.stats(userCallerOf(req))),
    listUserConversations: async (req) => ok(await domain.admin.listUserConversations(userCallerOf(req), req.params.user_id, page(req))),
    listAdminRoomMessages: async (req) => ok(await domain.admin.readRoom(userCallerOf(req), req.params.room_id, {
      after_seq: intParam(req.query.after_seq), before_seq: intParam(req.query.before_seq), limit: intParam(req.query.limit),
    })),
    listAuditLog: async (req) => ok(await domain.admin.listAuditLog(userCallerOf(req), {
      action: strParam(req.query.action), actor_id: strParam(req.query.actor_id), room_id: strParam(req.query.room_id),
      limit: intParam(req.query.limit), cursor: strParam(req.query.cursor),
    })),
  };
}

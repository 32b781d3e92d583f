/** In-app notifications (spec tag `notifications`). */
import type { NotificationInput } from '../../domain/notifications.ts';
import { callerOf, created, intParam, ok, strParam, type HttpDeps, type OperationMap, type OperationRequest } from '../operation.ts';

export function notificationHandlers({ domain }: HttpDeps): OperationMap {
  return {
    sendNotification: async (req: OperationRequest<NotificationInput>) => {
      const { items, created: isNew } = await domain.notifications.send(callerOf(req), req.body, strParam(req.headers['idempotency-key']));
      return isNew ? created({ items }) : ok({ items });
    },
    listMyNotifications: async (req) => ok(await domain.notifications.listMine(callerOf(req), {
      unread_only: String(req.query.unread_only) === 'true', limit: intParam(req.query.limit), cursor: strParam(req.query.cursor),
    })),
    markNotificationsRead: async (req: OperationRequest<{ up_to_id?: string; ids?: string[] }>) =>
      ok(await domain.notifications.markRead(callerOf(req), req.body)),
  };
}

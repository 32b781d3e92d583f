/** Webhook endpoints and their deliveries (spec tag `webhooks`). */
import type { WebhookInput } from '../../domain/webhooks.ts';
import { callerOf, created, deleted, intParam, ok, page, strParam, type HttpDeps, type OperationMap, type OperationRequest } from '../operation.ts';

export function webhookHandlers({ domain }: HttpDeps): OperationMap {
  const hooks = () => domain.webhooks;
  const deliveries = () => domain.webhookDeliveries;
  return {
    createWebhook: async (req: OperationRequest<WebhookInput>) => created(await hooks().create(callerOf(req), req.body)),
    listWebhooks: async (req) => ok(await hooks().list(callerOf(req), page(req))),
    getWebhook: async (req) => ok(await hooks().get(callerOf(req), req.params.webhook_id!)),
    updateWebhook: async (req: OperationRequest<WebhookInput>) => ok(await hooks().update(callerOf(req), req.params.webhook_id!, req.body)),
    deleteWebhook: async (req) => {
      await hooks().remove(callerOf(req), req.params.webhook_id!);
      return deleted(req.params.webhook_id!);
    },
    rotateWebhookSecret: async (req: OperationRequest<{ grace_seconds?: number } | undefined>) =>
      ok(await hooks().rotateSecret(callerOf(req), req.params.webhook_id!, req.body ?? {})),
    sendTestWebhook: async (req) => created(await deliveries().sendTest(callerOf(req), req.params.webhook_id!)),
    listWebhookDeliveries: async (req) => ok(await deliveries().list(callerOf(req), req.params.webhook_id!, {
      status: strParam(req.query.status), event_type: strParam(req.query.event_type), since: strParam(req.query.since),
      until: strParam(req.query.until), limit: intParam(req.query.limit), cursor: strParam(req.query.cursor),
    })),
    getWebhookDelivery: async (req) => ok(await deliveries().get(callerOf(req), req.params.webhook_id!, req.params.delivery_id!)),
    replayWebhookDelivery: async (req) => ok(await deliveries().replay(callerOf(req), req.params.webhook_id!, req.params.delivery_id!)),
    replayWebhookDeliveries: async (req: OperationRequest<{ since: string; until: string }>) =>
      ok(await deliveries().replayDead(callerOf(req), req.params.webhook_id!, req.body)),
  };
}

/**
 * The single place where the spec meets the code: one handler per operationId in
 * spec/openapi.yaml. test/http/operations.test.ts proves the two sets are equal.
 */
import type { HttpDeps, OperationMap } from '../operation.ts';
import { authHandlers } from './auth.ts';
import { inviteHandlers } from './invites.ts';
import { adminHandlers } from './admin.ts';
import { healthHandlers } from './health.ts';
import { messageHandlers } from './messages.ts';
import { moderationHandlers } from './moderation.ts';
import { presenceHandlers } from './presence.ts';
import { publishableKeyHandlers } from './publishable-keys.ts';
import { rateLimitHandlers } from './rate-limit.ts';
import { realtimeHandlers } from './realtime.ts';
import { receiptHandlers } from './receipts.ts';
import { roomHandlers } from './rooms.ts';
import { tenantHandlers } from './tenants.ts';
import { ticketHandlers } from './tickets.ts';
import { userHandlers } from './users.ts';
import { webhookHandlers } from './webhooks.ts';
import { notificationHandlers } from './notifications.ts';

export function operationHandlers(deps: HttpDeps): OperationMap {
  return {
    ...healthHandlers(deps),
    ...tenantHandlers(deps),
    ...publishableKeyHandlers(deps),
    ...authHandlers(deps),
    ...inviteHandlers(deps),
    ...userHandlers(deps),
    ...roomHandlers(deps),
    ...messageHandlers(deps),
    ...receiptHandlers(deps),
    ...realtimeHandlers(deps),
    ...rateLimitHandlers(deps),
    ...presenceHandlers(deps),
    ...ticketHandlers(deps),
    ...adminHandlers(deps),
    ...webhookHandlers(deps),
    ...moderationHandlers(deps),
    ...notificationHandlers(deps),
  };
}

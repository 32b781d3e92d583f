/**
 * The domain: every business rule of chatapi, behind one object that REST handlers and the
 * WebSocket node share. No Koa, no uWS, no SQL text here (queries live in src/store).
 */
import { accountsApi } from './accounts.ts';
import { publishableKeysApi } from './publishable-keys.ts';
import { authFailuresApi } from './auth-failures.ts';
import { invitesApi } from './invites.ts';
import { adminApi } from './admin.ts';
import { createCtx } from './context.ts';
import { healthApi } from './health.ts';
import { messagesApi } from './messages.ts';
import { moderationApi } from './moderation.ts';
import { receiptsApi } from './receipts.ts';
import { roomCodesApi } from './room-codes.ts';
import { roomsApi } from './rooms.ts';
import { tenantsApi } from './tenants.ts';
import { ticketsApi } from './tickets.ts';
import { tokensApi } from './tokens.ts';
import type { Domain, DomainDeps } from './types.ts';
import { usersApi } from './users.ts';
import { webhookDeliveriesApi } from './webhook-deliveries.ts';
import { webhooksApi } from './webhooks.ts';
import { userStatusApi } from './user-status.ts';
import { notificationsApi } from './notifications.ts';

export function createDomain(deps: DomainDeps): Domain {
  const ctx = createCtx(deps);
  return {
    tenants: tenantsApi(ctx),
    publishableKeys: publishableKeysApi(ctx),
    authFailures: authFailuresApi(ctx),
    accounts: accountsApi(ctx),
    roomCodes: roomCodesApi(ctx),
    invites: invitesApi(ctx),
    users: usersApi(ctx),
    tokens: tokensApi(ctx),
    rooms: roomsApi(ctx),
    messages: messagesApi(ctx),
    receipts: receiptsApi(ctx),
    tickets: ticketsApi(ctx),
    admin: adminApi(ctx),
    moderation: moderationApi(ctx),
    health: healthApi(ctx),
    webhooks: webhooksApi(ctx),
    webhookDeliveries: webhookDeliveriesApi(ctx),
    userStatus: userStatusApi(ctx),
    notifications: notificationsApi(ctx, deps.online),
  };
}

export type * from './types.ts';
export type { DomainEvent, EventSink, RoomSummary } from './events.ts';

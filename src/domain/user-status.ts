/**
 * `user.online` / `user.offline` webhook events: the realtime node's presence (src/ws/presence.ts)
 * reports each transition once across nodes, after the grace period for offline, and the event is
 * written to the outbox. Not a bus event: WebSocket clients see `presence` frames instead.
 */
import { appendOutbox } from '../store/outbox.ts';
import type { Ctx } from './context.ts';

export type UserStatus = 'online' | 'offline';

export interface UserStatusApi {
  record(tenantId: string, userId: string, status: UserStatus): Promise<void>;
}

export function userStatusApi(ctx: Ctx): UserStatusApi {
  return {
    async record(tenantId, userId, status) {
      await appendOutbox(ctx.db, [{ type: `user.${status}`, tenant_id: tenantId, user_id: userId } as never], ctx.now());
    },
  };
}

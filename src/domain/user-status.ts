/**
 * `user.online` / `user.offline` webhook events: the realtime node's presence (src/ws/presence.ts)
 * reports each transition once across nodes, after the grace period for offline, and the event is
 * written to the outbox. Not a bus event: WebSocket clients see `presence` frames instead.
 *
 * Transitions recorded within BATCH_MS of each other share one multi-row INSERT (and so one commit,
 * one log sync and one outbox dispatch): a node where thousands of users connect at once would
 * otherwise pay a synced single-row commit (on the event loop, with SQLite) and a dispatch per user.
 * Each record() still resolves only once its row is committed, and rows keep the order record()
 * was called in. The webhook goes out at most BATCH_MS later. The batch is its own transaction, its
 * sync off the event loop on SQLite (store/outbox-append.ts).
 */
import type { OutboxEvent } from '../store/outbox.ts';
import { appendOutboxAlone } from '../store/outbox-append.ts';
import type { Ctx } from './context.ts';

export type UserStatus = 'online' | 'offline';

export interface UserStatusApi {
  record(tenantId: string, userId: string, status: UserStatus): Promise<void>;
}

/** How long the first transition of a batch waits for others. */
export const BATCH_MS = 20;

interface Pending {
  events: OutboxEvent[];
  done: Promise<void>;
}

export function userStatusApi(ctx: Ctx): UserStatusApi {
  let pending: Pending | undefined;
  const flush = (batch: Pending) => {
    if (pending === batch) pending = undefined;
    return appendOutboxAlone(ctx.db, batch.events, ctx.now());
  };
  return {
    record(tenantId, userId, status) {
      const event = { type: `user.${status}`, tenant_id: tenantId, user_id: userId } as OutboxEvent;
      if (pending) {
        pending.events.push(event);
        return pending.done;
      }
      const batch: Pending = { events: [event], done: undefined as never };
      batch.done = new Promise<void>((resolve) => setTimeout(resolve, BATCH_MS)).then(() => flush(batch));
      pending = batch;
      return batch.done;
    },
  };
}

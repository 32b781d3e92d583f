/**
 * What the event loop and the send writer's thread (sqlite-writer.ts, sqlite-writer-thread.ts)
 * say to each other. A batch travels as one flat array (a structured clone of few objects is
 * cheaper than one of many) and comes back as one seq per send: the loop already holds the rest of
 * each row.
 */
import type { AppendRequest } from './append-types.ts';

/** Values per send in WriteBatch.sends, in this order. */
export const FIELDS = 13;

export interface WriteBatch {
  id: number;
  /** The checkpoint worker (wal-sync.ts) checkpoints this database: turn the automatic checkpoint off. */
  checkpointsOffLoop: boolean;
  sends: unknown[];
}

export interface SerializedError {
  message: string;
  code?: string;
}

export type WriteAnswer =
  | { id: number; kind: 'ready' }
  /** Committed: each send's last seq (null: refused, nothing stored) or its own error. */
  | { id: number; kind: 'stored'; seqs: (number | null)[]; errors: [index: number, err: SerializedError][] }
  /** Rolled back, nothing stored: these tenants have webhook endpoints, so the batch's outbox events must be written on the loop. */
  | { id: number; kind: 'outbox'; tenants: string[] }
  /** Rolled back, nothing stored (a lock held by another process: retryable by its code). */
  | { id: number; kind: 'failed'; err: SerializedError };

/** A batch's sends as WriteBatch.sends; `createdAt[i]` is send i's time. */
export function encodeSends(batch: readonly AppendRequest[], createdAt: readonly number[]): unknown[] {
  const out = new Array<unknown>(batch.length * FIELDS);
  let k = 0;
  batch.forEach((r, i) => {
    const m = r.msg;
    out[k++] = m.id; out[k++] = m.tenant_id; out[k++] = m.room_id; out[k++] = m.sender_id; out[k++] = m.content;
    out[k++] = m.meta; out[k++] = m.client_msg_id; out[k++] = m.body_hash; out[k++] = m.edited_at; out[k++] = m.deleted_at;
    out[k++] = createdAt[i]; out[k++] = r.slowOk ? 1 : 0; out[k++] = r.events ? 1 : 0;
  });
  return out;
}

/** The sends back from WriteBatch.sends, each with its time as its clock; and whether each has outbox events. */
export function decodeSends(sends: readonly unknown[]): { batch: AppendRequest[]; withEvents: boolean[] } {
  const batch: AppendRequest[] = [];
  const withEvents: boolean[] = [];
  for (let k = 0; k < sends.length; k += FIELDS) {
    const at = sends[k + 10] as number;
    batch.push({
      msg: {
        id: sends[k] as string, tenant_id: sends[k + 1] as string, room_id: sends[k + 2] as string, sender_id: sends[k + 3] as string,
        content: sends[k + 4] as string, meta: sends[k + 5] as string | null, client_msg_id: sends[k + 6] as string | null,
        body_hash: sends[k + 7] as string | null, edited_at: sends[k + 8] as number | null, deleted_at: sends[k + 9] as number | null,
      },
      now: () => at,
      slowOk: sends[k + 11] === 1,
    });
    withEvents.push(sends[k + 12] === 1);
  }
  return { batch, withEvents };
}

export function serializeError(err: unknown): SerializedError {
  const e = (err ?? {}) as { message?: unknown; code?: unknown };
  return { message: typeof e.message === 'string' ? e.message : String(err), ...(typeof e.code === 'string' ? { code: e.code } : {}) };
}

/** The error again on the loop's side, with its driver code (isUniqueViolation and isRetryable read it). */
export function deserializeError(s: SerializedError): Error {
  return Object.assign(new Error(s.message), s.code === undefined ? {} : { code: s.code });
}

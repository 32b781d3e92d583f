/** What the batched send transactions (sqlite-append.ts, mysql-append.ts) take and give back. */
import type { Knex } from 'knex';
import type { OutboxEvent } from './outbox.ts';

export interface NewMessageRow {
  id: string;
  tenant_id: string;
  room_id: string;
  seq: number;
  sender_id: string;
  content: string;
  meta: string | null; // JSON text
  client_msg_id: string | null;
  body_hash: string | null;
  created_at: number;
  edited_at: number | null;
  deleted_at: number | null;
}

/** A message to store; the seq and created_at are assigned inside its batch's transaction. */
export type MessageToAppend = Omit<NewMessageRow, 'seq' | 'created_at'>;

/**
 * The stored row of a message once its batch has given it a seq and a time. Written out field by
 * field, not as `{ ...msg, seq, created_at }`: in Node 20's V8, properties added after a spread send
 * every copy through the runtime (3.2 µs for this row against 48 ns written out: load/bench/row-build.ts,
 * load/README § "Issue 12, eighteenth round"), and this runs once per message on the send path.
 */
export function messageRow(m: MessageToAppend, seq: number, createdAt: number): NewMessageRow {
  return {
    id: m.id, tenant_id: m.tenant_id, room_id: m.room_id, seq, sender_id: m.sender_id, content: m.content, meta: m.meta,
    client_msg_id: m.client_msg_id, body_hash: m.body_hash, created_at: createdAt, edited_at: m.edited_at, deleted_at: m.deleted_at,
  };
}

/**
 * The per-send hook: called once for each stored send, inside the transaction that stores it
 * (shared with the rest of its batch), after its row is inserted and before COMMIT. Rows it writes
 * through `trx` (a feed position, an outbox event …) commit or roll back with the message. If it
 * throws, that send fails with the error and stores nothing; the other sends are unaffected.
 */
export type AfterInsert = (trx: Knex.Transaction, message: NewMessageRow) => Promise<void>;

/**
 * The outbox hook (issue 10): the events a stored send writes to the outbox, inside the same
 * transaction (and, on SQLite, the same savepoint), so they exist if and only if the message does.
 * Each backend writes them in its own way (raw statement on SQLite, one multi-row INSERT per batch on MySQL).
 */
export type SendEvents = (row: NewMessageRow) => OutboxEvent[];

export interface AppendRequest {
  msg: MessageToAppend;
  now: () => number;
  afterInsert?: AfterInsert;
  events?: SendEvents;
  /** The sender has already passed the room's slow mode (domain/send-gate.ts): store despite it. */
  slowOk?: boolean;
}

/** A send's outcome: the stored row, or null when the room is gone or the sender is not in it. */
export type AppendResult = NewMessageRow | null;

/** Sends per transaction: bounds how long a batch holds its locks and how late its first send is answered. */
export const MAX_BATCH = 256;
/** Whole-batch attempts on lock conflicts (busy database, deadlock), as inTransaction does. */
export const MAX_ATTEMPTS = 6;

/** A jittered pause before a batch is tried again, growing with the attempt. */
export const backoff = (attempt: number) => new Promise((r) => setTimeout(r, Math.random() * 5 * attempt));

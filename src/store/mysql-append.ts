/**
 * The batched send transaction on MySQL/MariaDB (queued by group-commit.ts): one transaction and
 * a fixed handful of statements per batch, whatever its size (a batch of one takes the shorter
 * path of storeOne):
 *
 *   SELECT … FROM rooms WHERE id IN (…) ORDER BY id FOR UPDATE   lock the batch's rooms (in one order)
 *   SELECT … FROM room_members WHERE … LOCK IN SHARE MODE        which senders are members
 *   INSERT INTO messages VALUES (…), (…), …                     every new message, seqs assigned here
 *   UPDATE rooms SET last_seq = CASE id … END …                  each room's new last_seq
 *   INSERT INTO feed_positions … ON DUPLICATE KEY UPDATE        per tenant: the batch's feed positions (feed.ts)
 *   INSERT INTO outbox_events VALUES (…), …                     the sends' events (outbox.ts)
 *   afterInsert(trx, row) per stored send, then COMMIT
 *
 * Holding each room's row lock from the first statement to COMMIT keeps every room's seq gap-free
 * across batches and nodes: seqs are last_seq + 1, + 2 … in queue order. Idempotent repeats are
 * rare, so keys are not looked up first: when the INSERT hits the unique index the batch is rolled
 * back and run again with a lookup of its keys (SELECT … FROM messages WHERE (room, sender, key) …),
 * and a send whose key is already stored (or used earlier in the same batch) fails with the
 * duplicate-key error its INSERT would have raised; the caller answers the original. If the batch fails for any other
 * reason (a hook throws, an unforeseen constraint) nothing of it is stored and each send is run
 * again in a transaction of its own, so each gets its own outcome. Deadlocks retry the batch.
 */
import type { Knex } from 'knex';
import { isRetryable, isUniqueViolation } from './db.ts';
import { takeSeqAsMember } from './rooms.ts';
import { backoff, MAX_ATTEMPTS, type AppendRequest, type AppendResult, type NewMessageRow } from './append-types.ts';
import type { Outcome } from './group-commit.ts';
import { takeFeedPositions } from './feed.ts';
import { appendOutbox, outboxRow } from './outbox.ts';

const COLUMNS = ['id', 'tenant_id', 'room_id', 'seq', 'sender_id', 'content', 'meta', 'client_msg_id', 'body_hash', 'created_at', 'edited_at', 'deleted_at', 'feed_pos'] as const;
type StoredRow = NewMessageRow & { feed_pos: number };
const ROW_PLACEHOLDERS = `(${COLUMNS.map(() => '?').join(', ')})`;

/** Thrown for a send whose idempotency key is already taken: what its INSERT would have raised. */
class DuplicateKey extends Error {
  readonly code = 'ER_DUP_ENTRY';
  readonly errno = 1062;
  constructor() {
    super('Duplicate entry for (room_id, sender_id, client_msg_id)');
  }
}

export async function runMysqlBatch(knex: Knex, batch: AppendRequest[]): Promise<Outcome<AppendResult>[]> {
  let checkKeys = false;
  for (let attempt = 1; ; attempt++) {
    try {
      return await knex.transaction((trx) => (batch.length === 1 ? storeOne(trx, batch[0]!) : storeBatch(trx, batch, checkKeys)));
    } catch (err) {
      if (isUniqueViolation(err) && !checkKeys) {
        checkKeys = true; // a repeat: look the batch's keys up first this time
        continue;
      }
      if (isRetryable(err) && attempt < MAX_ATTEMPTS) {
        await backoff(attempt);
        continue;
      }
      if (batch.length > 1 && !isRetryable(err)) return oneByOne(knex, batch);
      throw err;
    }
  }
}

/** The rare path: each send in its own transaction, so one send's failure is its own. */
async function oneByOne(knex: Knex, batch: AppendRequest[]): Promise<Outcome<AppendResult>[]> {
  const outcomes: Outcome<AppendResult>[] = [];
  for (const req of batch) {
    try {
      outcomes.push((await runMysqlBatch(knex, [req]))[0]!);
    } catch (err) {
      outcomes.push({ err });
    }
  }
  return outcomes;
}

/**
 * A batch of one (a quiet moment) in the fewest round trips: UPDATE rooms … WHERE <member>
 * (takes the seq and the room's lock), INSERT. A repeat fails the INSERT with the duplicate-key error.
 */
async function storeOne(trx: Knex.Transaction, { msg, now, afterInsert, events, slowOk }: AppendRequest): Promise<Outcome<AppendResult>[]> {
  const createdAt = now();
  const seq = await takeSeqAsMember(trx, msg.tenant_id, msg.room_id, msg.sender_id, createdAt, slowOk);
  if (seq === 0) return [{ value: null }];
  const row: NewMessageRow = { ...msg, seq, created_at: createdAt };
  const [feedPos] = (await takeFeedPositions(trx, msg.tenant_id, 1))!;
  await trx('messages').insert({ ...row, feed_pos: feedPos });
  if (events) await appendOutbox(trx, events(row), createdAt);
  if (afterInsert) await afterInsert(trx, row);
  return [{ value: row }];
}

type Rows<T> = [T[], unknown];
const pairKey = (...parts: (string | null)[]) => JSON.stringify(parts);

async function storeBatch(trx: Knex.Transaction, batch: AppendRequest[], checkKeys: boolean): Promise<Outcome<AppendResult>[]> {
  const roomIds = [...new Set(batch.map((r) => r.msg.room_id))].sort();
  const [rooms] = (await trx.raw(
    `SELECT id, tenant_id, last_seq, slow_mode_seconds FROM rooms WHERE id IN (${roomIds.map(() => '?').join(', ')}) AND archived_at IS NULL ORDER BY id FOR UPDATE`,
    roomIds,
  )) as Rows<{ id: string; tenant_id: string; last_seq: number | string; slow_mode_seconds: number | string }>;
  // The send gate (rooms.ts SEND_GATE), per send: the room is not archived, slow mode holds only
  // sends that have not passed it (slowOk), and the sender is a member who is not muted.
  const lastSeq = new Map(rooms.map((r) => [pairKey(r.tenant_id, r.id), Number(r.last_seq)]));
  const slow = new Set(rooms.filter((r) => Number(r.slow_mode_seconds) > 0).map((r) => pairKey(r.tenant_id, r.id)));
  const inRoom = batch.filter((r) => lastSeq.has(pairKey(r.msg.tenant_id, r.msg.room_id)) && (r.slowOk || !slow.has(pairKey(r.msg.tenant_id, r.msg.room_id))));
  const members = await findMembers(trx, inRoom, batch[0]!.now());
  const senders = inRoom.filter((r) => members.has(pairKey(r.msg.tenant_id, r.msg.room_id, r.msg.sender_id)));
  const allowed = new Set(senders);
  const usedKeys = checkKeys ? await findUsedKeys(trx, senders) : new Set<string>();

  const outcomes: Outcome<AppendResult>[] = [];
  const stored: { row: NewMessageRow; req: AppendRequest }[] = [];
  const roomUpdates = new Map<string, { seq: number; at: number }>();
  for (const req of batch) {
    const m = req.msg;
    const room = pairKey(m.tenant_id, m.room_id);
    if (!allowed.has(req)) {
      outcomes.push({ value: null });
      continue;
    }
    const key = m.client_msg_id === null ? null : pairKey(m.room_id, m.sender_id, m.client_msg_id);
    if (key !== null && usedKeys.has(key)) {
      outcomes.push({ err: new DuplicateKey() });
      continue;
    }
    if (key !== null) usedKeys.add(key);
    const seq = lastSeq.get(room)! + 1;
    lastSeq.set(room, seq);
    const row: NewMessageRow = { ...m, seq, created_at: req.now() };
    roomUpdates.set(m.room_id, { seq, at: row.created_at });
    stored.push({ row, req });
    outcomes.push({ value: row });
  }
  if (stored.length === 0) return outcomes;
  const positioned = await withFeedPositions(trx, stored.map((s) => s.row));
  await trx.raw(
    `INSERT INTO messages (${COLUMNS.join(', ')}) VALUES ${positioned.map(() => ROW_PLACEHOLDERS).join(', ')}`,
    positioned.flatMap((row) => COLUMNS.map((c) => row[c])),
  );
  await bumpRooms(trx, roomUpdates);
  const outbox = stored.flatMap(({ row, req }) => (req.events ? req.events(row).map((e) => outboxRow(e, row.created_at)) : []));
  if (outbox.length > 0) await trx('outbox_events').insert(outbox);
  for (const { row, req } of stored) if (req.afterInsert) await req.afterInsert(trx, row);
  return outcomes;
}

/** Each row with its tenant's next feed position, in batch order (tenants taken in sorted order, after the rooms). */
async function withFeedPositions(trx: Knex.Transaction, rows: NewMessageRow[]): Promise<StoredRow[]> {
  const byTenant = new Map<string, NewMessageRow[]>();
  for (const r of rows) byTenant.set(r.tenant_id, [...(byTenant.get(r.tenant_id) ?? []), r]);
  const pos = new Map<NewMessageRow, number>();
  for (const tenant of [...byTenant.keys()].sort()) {
    const mine = byTenant.get(tenant)!;
    const taken = await takeFeedPositions(trx, tenant, mine.length);
    mine.forEach((r, i) => pos.set(r, taken[i]!));
  }
  return rows.map((r) => ({ ...r, feed_pos: pos.get(r)! }));
}

/** (tenant, room, user) keys of the senders who are members of their room and not muted at `now`, share-locked until COMMIT. */
async function findMembers(trx: Knex.Transaction, batch: AppendRequest[], now: number): Promise<Set<string>> {
  const pairs = new Map(batch.map((r) => [pairKey(r.msg.room_id, r.msg.sender_id), r.msg]));
  if (pairs.size === 0) return new Set();
  const [rows] = (await trx.raw(
    `SELECT tenant_id, room_id, user_id, muted_until FROM room_members WHERE ${[...pairs.values()].map(() => '(room_id = ? AND user_id = ?)').join(' OR ')} LOCK IN SHARE MODE`,
    [...pairs.values()].flatMap((m) => [m.room_id, m.sender_id]),
  )) as Rows<{ tenant_id: string; room_id: string; user_id: string; muted_until: number | string | null }>;
  return new Set(rows.filter((r) => r.muted_until === null || Number(r.muted_until) <= now).map((r) => pairKey(r.tenant_id, r.room_id, r.user_id)));
}

/**
 * (room, sender, key) of the keys already stored. A plain read suffices: this transaction holds
 * the rooms' locks, which every send into them takes, and its snapshot starts with this read.
 */
async function findUsedKeys(trx: Knex.Transaction, batch: AppendRequest[]): Promise<Set<string>> {
  const keyed = batch.filter((r) => r.msg.client_msg_id !== null).map((r) => r.msg);
  if (keyed.length === 0) return new Set();
  const [rows] = (await trx.raw(
    `SELECT room_id, sender_id, client_msg_id FROM messages WHERE ${keyed.map(() => '(room_id = ? AND sender_id = ? AND client_msg_id = ?)').join(' OR ')}`,
    keyed.flatMap((m) => [m.room_id, m.sender_id, m.client_msg_id]),
  )) as Rows<{ room_id: string; sender_id: string; client_msg_id: string }>;
  return new Set(rows.map((r) => pairKey(r.room_id, r.sender_id, r.client_msg_id)));
}

/** One UPDATE for every room of the batch: its last seq and the time of its last message. */
async function bumpRooms(trx: Knex.Transaction, updates: Map<string, { seq: number; at: number }>): Promise<void> {
  const ids = [...updates.keys()];
  const cases = ids.map(() => 'WHEN ? THEN ?').join(' ');
  await trx.raw(
    `UPDATE rooms SET last_seq = CASE id ${cases} END, updated_at = CASE id ${cases} END WHERE id IN (${ids.map(() => '?').join(', ')})`,
    [...ids.flatMap((id) => [id, updates.get(id)!.seq]), ...ids.flatMap((id) => [id, updates.get(id)!.at]), ...ids],
  );
}

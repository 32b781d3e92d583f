/**
 * The batched send on MySQL/MariaDB in two round trips (mysql-append.ts runs it): the reads that
 * lock, then every write and the COMMIT, each sent as one multi-statement query on one pooled
 * connection. Before, a batch took about nine round trips (BEGIN, two locking reads, the feed
 * counter and a read of it, the INSERT, the UPDATE, the outbox, COMMIT); under load each round
 * trip waits for the database's thread to be scheduled, and a closed loop of senders can go no
 * faster than its batches do.
 *
 *   1. START TRANSACTION;
 *      SELECT … FROM rooms WHERE id IN (…) ORDER BY id FOR UPDATE;            the batch's rooms, in one order
 *      SELECT … FROM room_members WHERE … LOCK IN SHARE MODE;                which senders are members
 *      SELECT … FROM webhooks WHERE tenant_id IN (…) LOCK IN SHARE MODE;     the outbox gate (outbox.ts)
 *      [SELECT … FROM messages WHERE (room, sender, key) …]                  only on the retry after a repeat
 *   2. per tenant: INSERT INTO feed_positions … LAST_INSERT_ID(last_pos + n); SET @feed_i = LAST_INSERT_ID();
 *      INSERT INTO messages VALUES (…, @feed_i - k), …;                        seqs from step 1, feed positions from the counter
 *      UPDATE rooms SET last_seq = CASE id … END …;
 *      INSERT INTO outbox_events VALUES …;                                    only events an endpoint would receive
 *      COMMIT
 *
 * The rooms are read and updated through their primary key (FORCE INDEX): on a small rooms table
 * the optimizer would otherwise scan it, and a locking scan locks every row it passes, so two
 * batches of different rooms (two nodes, or two batches in flight) would block or deadlock each other.
 *
 * The server stops a multi-statement query at its first failing statement, so a failure leaves the
 * transaction open: it is rolled back before the connection goes back to the pool, and the error
 * (a duplicate key, a deadlock …) goes to mysql-append.ts, which decides what runs again.
 */
import type { Knex } from 'knex';
import { type AppendRequest, type AppendResult, messageRow, type NewMessageRow } from './append-types.ts';
import type { Outcome } from './group-commit.ts';
import { GATE_COLUMNS, OutboxGate, outboxRow, type GateRow } from './outbox.ts';

/** What the locking reads found: each room's last seq and slow mode, members (and their mutes), the tenants' endpoints, used keys. */
export interface BatchReads {
  rooms: { id: string; tenant_id: string; last_seq: number | string; slow_mode_seconds: number | string }[];
  members: { tenant_id: string; room_id: string; user_id: string; muted_until: number | string | null }[];
  webhooks: GateRow[];
  usedKeys: { room_id: string; sender_id: string; client_msg_id: string }[];
}

export interface BatchPlan {
  outcomes: Outcome<AppendResult>[];
  /** Which of the sends' events go to the outbox (outbox.ts), from the endpoints the locking read found. */
  gate: OutboxGate;
  stored: { row: NewMessageRow; req: AppendRequest }[];
  /** room id → its new last seq and the time of its last message */
  roomUpdates: Map<string, { seq: number; at: number }>;
}

/** Thrown for a send whose idempotency key is already taken: what its INSERT would have raised. */
export class DuplicateKey extends Error {
  readonly code = 'ER_DUP_ENTRY';
  readonly errno = 1062;
  constructor() {
    super('Duplicate entry for (room_id, sender_id, client_msg_id)');
  }
}

/** A set of (a, b, c) tuples of ids, as maps of maps: no key strings built, each id hashed once. */
class TupleSet {
  private readonly byA = new Map<string, Map<string, Set<string>>>();
  add(a: string, b: string, c: string): void {
    let byB = this.byA.get(a);
    if (!byB) this.byA.set(a, (byB = new Map()));
    const cs = byB.get(b);
    if (cs) cs.add(c);
    else byB.set(b, new Set([c]));
  }
  has(a: string, b: string, c: string): boolean {
    return this.byA.get(a)?.get(b)?.has(c) ?? false;
  }
}

/**
 * Decides each send of the batch from what the locking reads found (rooms.ts SEND_GATE, per send):
 * the room exists and is not archived, slow mode holds only sends that have not passed it
 * (slowOk), the sender is a member who is not muted at `now`, and the key is not used already (or
 * earlier in the batch). Seqs are last_seq + 1, + 2 … in queue order; created_at is read per send.
 * Rooms and memberships count only within the send's own tenant.
 */
export function planBatch(batch: AppendRequest[], reads: BatchReads, now: number): BatchPlan {
  const rooms = new Map<string, { tenant: string; last: number; slow: boolean }>();
  for (const r of reads.rooms) rooms.set(r.id, { tenant: r.tenant_id, last: Number(r.last_seq), slow: Number(r.slow_mode_seconds) > 0 });
  const members = new TupleSet(); // (room, user, tenant)
  for (const r of reads.members) if (r.muted_until === null || Number(r.muted_until) <= now) members.add(r.room_id, r.user_id, r.tenant_id);
  const usedKeys = new TupleSet(); // (room, sender, key)
  for (const r of reads.usedKeys) usedKeys.add(r.room_id, r.sender_id, r.client_msg_id);
  const plan: BatchPlan = { outcomes: [], gate: new OutboxGate(reads.webhooks), stored: [], roomUpdates: new Map() };
  for (const req of batch) {
    const m = req.msg;
    const room = rooms.get(m.room_id);
    if (room === undefined || room.tenant !== m.tenant_id || (room.slow && !req.slowOk) || !members.has(m.room_id, m.sender_id, m.tenant_id)) {
      plan.outcomes.push({ value: null });
      continue;
    }
    if (m.client_msg_id !== null) {
      if (usedKeys.has(m.room_id, m.sender_id, m.client_msg_id)) {
        plan.outcomes.push({ err: new DuplicateKey() });
        continue;
      }
      usedKeys.add(m.room_id, m.sender_id, m.client_msg_id);
    }
    const seq = ++room.last;
    const row = messageRow(m, seq, req.now());
    plan.roomUpdates.set(m.room_id, { seq, at: row.created_at });
    plan.stored.push({ row, req });
    plan.outcomes.push({ value: row });
  }
  return plan;
}

/** `?, ?, …` (n of them), built once per n. */
const placeholders: string[] = [];
const list = (n: number) => (placeholders[n] ??= Array.from({ length: n }, () => '?').join(', '));

/** The locking reads of step 1 (also used inside a knex transaction): statements with their bindings. */
export function readStatements(batch: AppendRequest[], checkKeys: boolean): { sql: string; bindings: unknown[] }[] {
  const roomIds = [...new Set(batch.map((r) => r.msg.room_id))].sort();
  const pairs = new TupleSet();
  const memberBindings: unknown[] = [];
  let memberWhere = '';
  for (const { msg } of batch) {
    if (pairs.has(msg.room_id, msg.sender_id, '')) continue;
    pairs.add(msg.room_id, msg.sender_id, '');
    memberWhere += memberWhere === '' ? '(room_id = ? AND user_id = ?)' : ' OR (room_id = ? AND user_id = ?)';
    memberBindings.push(msg.room_id, msg.sender_id);
  }
  const tenantIds = [...new Set(batch.map((r) => r.msg.tenant_id))].sort();
  const statements = [
    {
      sql: `SELECT id, tenant_id, last_seq, slow_mode_seconds FROM rooms FORCE INDEX (PRIMARY) WHERE id IN (${list(roomIds.length)}) AND archived_at IS NULL ORDER BY id FOR UPDATE`,
      bindings: roomIds as unknown[],
    },
    {
      sql: `SELECT tenant_id, room_id, user_id, muted_until FROM room_members WHERE ${memberWhere} LOCK IN SHARE MODE`,
      bindings: memberBindings,
    },
    {
      // The outbox gate, once per tenant per batch: locking, so an endpoint created before this
      // read is seen and one created meanwhile waits for COMMIT (outbox.ts).
      sql: `SELECT ${GATE_COLUMNS.join(', ')} FROM webhooks WHERE tenant_id IN (${list(tenantIds.length)}) LOCK IN SHARE MODE`,
      bindings: tenantIds as unknown[],
    },
  ];
  // A plain read suffices for the keys: this transaction holds the rooms' locks, which every send into them takes.
  const keyed = batch.filter((r) => r.msg.client_msg_id !== null).map((r) => r.msg);
  if (checkKeys && keyed.length > 0) {
    statements.push({
      sql: `SELECT room_id, sender_id, client_msg_id FROM messages WHERE ${keyed.map(() => '(room_id = ? AND sender_id = ? AND client_msg_id = ?)').join(' OR ')}`,
      bindings: keyed.flatMap((m) => [m.room_id, m.sender_id, m.client_msg_id]),
    });
  }
  return statements;
}

const COLUMNS = ['id', 'tenant_id', 'room_id', 'seq', 'sender_id', 'content', 'meta', 'client_msg_id', 'body_hash', 'created_at', 'edited_at', 'deleted_at'] as const;
const INSERT_MESSAGES = `INSERT INTO messages (${COLUMNS.join(', ')}, feed_pos) VALUES `;
/** One message's values: its columns (bound in COLUMNS order, see writeScript), then its feed position. */
const MESSAGE_ROW = `(${list(COLUMNS.length)}, `;
const OUTBOX_COLUMNS = ['id', 'tenant_id', 'room_id', 'type', 'payload', 'created_at', 'dispatched_at'] as const;

/**
 * The writes of step 2 as one script: the feed counter per tenant (in tenant order, after the
 * rooms' locks), the messages with their feed positions, the rooms' last_seq, the outbox events.
 */
export function writeScript(plan: BatchPlan): { sql: string; bindings: unknown[] } {
  const parts: string[] = [];
  const bindings: unknown[] = [];
  const byTenant = new Map<string, NewMessageRow[]>();
  for (const { row } of plan.stored) {
    const rows = byTenant.get(row.tenant_id);
    if (rows) rows.push(row);
    else byTenant.set(row.tenant_id, [row]);
  }
  const feedOf = new Map<NewMessageRow, string>();
  [...byTenant.keys()].sort().forEach((tenant, t) => {
    const rows = byTenant.get(tenant)!;
    parts.push('INSERT INTO feed_positions (tenant_id, last_pos) VALUES (?, LAST_INSERT_ID(?)) ON DUPLICATE KEY UPDATE last_pos = LAST_INSERT_ID(last_pos + ?)',
      `SET @chatapi_feed_${t} = LAST_INSERT_ID()`);
    bindings.push(tenant, rows.length, rows.length);
    rows.forEach((row, i) => feedOf.set(row, `@chatapi_feed_${t} - ${rows.length - 1 - i}`));
  });
  let values = '';
  for (const { row } of plan.stored) {
    values += `${values === '' ? '' : ', '}${MESSAGE_ROW}${feedOf.get(row)})`;
    bindings.push(row.id, row.tenant_id, row.room_id, row.seq, row.sender_id, row.content, row.meta, row.client_msg_id, row.body_hash, row.created_at, row.edited_at, row.deleted_at);
  }
  parts.push(`${INSERT_MESSAGES}${values}`);
  let cases = '';
  const seqs: unknown[] = [];
  const times: unknown[] = [];
  for (const [id, { seq, at }] of plan.roomUpdates) {
    cases += cases === '' ? 'WHEN ? THEN ?' : ' WHEN ? THEN ?';
    seqs.push(id, seq);
    times.push(id, at);
  }
  parts.push(`UPDATE rooms FORCE INDEX (PRIMARY) SET last_seq = CASE id ${cases} END, updated_at = CASE id ${cases} END WHERE id IN (${list(plan.roomUpdates.size)})`);
  bindings.push(...seqs, ...times, ...plan.roomUpdates.keys());
  const outbox = plan.stored.flatMap(({ row, req }) => (req.events && plan.gate.any(row.tenant_id)
    ? req.events(row).filter((e) => plan.gate.wants(e)).map((e) => outboxRow(e, row.created_at))
    : []));
  if (outbox.length > 0) {
    parts.push(`INSERT INTO outbox_events (${OUTBOX_COLUMNS.join(', ')}) VALUES ${outbox.map(() => `(${list(OUTBOX_COLUMNS.length)})`).join(', ')}`);
    for (const row of outbox) for (const c of OUTBOX_COLUMNS) bindings.push(row[c]);
  }
  return { sql: parts.join(';\n'), bindings };
}

interface RawConnection {
  query(sql: string, values: unknown[], cb: (err: Error | null, results: unknown) => void): void;
}

function query(conn: RawConnection, sql: string, values: unknown[] = []): Promise<unknown> {
  return new Promise((resolve, reject) => conn.query(sql, values, (err, results) => (err ? reject(err) : resolve(results))));
}

/** The whole batch in two round trips on a connection of knex's pool (its query deadline applies). */
export async function runBatchScript(knex: Knex, batch: AppendRequest[], checkKeys: boolean): Promise<Outcome<AppendResult>[]> {
  const conn = (await knex.client.acquireConnection()) as RawConnection;
  try {
    const reads = readStatements(batch, checkKeys);
    const results = (await query(conn, ['START TRANSACTION', ...reads.map((s) => s.sql)].join(';\n'), reads.flatMap((s) => s.bindings))) as unknown[];
    const plan = planBatch(batch, {
      rooms: results[1] as BatchReads['rooms'],
      members: results[2] as BatchReads['members'],
      webhooks: results[3] as BatchReads['webhooks'],
      usedKeys: (results[4] ?? []) as BatchReads['usedKeys'],
    }, batch[0]!.now());
    if (plan.stored.length === 0) {
      await query(conn, 'ROLLBACK'); // nothing to write: let the locks go
      return plan.outcomes;
    }
    const writes = writeScript(plan);
    await query(conn, `${writes.sql};\nCOMMIT`, writes.bindings);
    return plan.outcomes;
  } catch (err) {
    // The server ran the script up to the failing statement: end the transaction before the
    // connection is reused (a lost connection fails this too; knex's pool then discards it).
    await query(conn, 'ROLLBACK').catch(() => {});
    throw err;
  } finally {
    await knex.client.releaseConnection(conn);
  }
}

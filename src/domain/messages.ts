/**
 * Messages: durable, ordered per room (seq 1, 2, 3 … without gaps), idempotent per client key.
 * Events go out only after the transaction that stored the change has committed.
 */
import { sha256 } from '../sha256.ts';
import { isUniqueViolation } from '../store/db.ts';
import * as store from '../store/messages.ts';
import * as feed from '../store/feed.ts';
import { uuidv7 } from '../store/ordered-id.ts';
import { markFirstResponse } from '../store/tickets.ts';
import { assertInScope, membership, type Membership } from './access.ts';
import type { Ctx } from './context.ts';
import { DomainError, notFound } from './errors.ts';
import type { MessageEvent } from './events.ts';
import { messageOut } from './mappers.ts';
import type { Message } from './shapes.ts';
import { sendGate } from './send-gate.ts';
import { isStaffRole } from './staff.ts';
import type { Caller, Domain, MessageInput, MessageQuery, RunItem, RunOptions, UserCaller } from './types.ts';
import { canonicalJson, checkInt, checkJsonBounds, checkLimit, checkText, checkWellFormed, codePoints, decodeCursor, encodeCursor, invalid, isPlainObject, requireUser } from './validate.ts';

/** Most code points of a message's content (spec: MessageContent). */
export const MAX_CONTENT = 4000;
const MAX_META_BYTES = 8 * 1024;
/** Documented in spec/schemas/message-meta.yaml. */
const META_BOUNDS = { maxDepth: 16, maxNodes: 512 };
const MAX_CLIENT_KEY = 128;

function checkMeta(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  if (!isPlainObject(value)) throw invalid('meta', 'must be a JSON object or null');
  checkJsonBounds('meta', value, META_BOUNDS); // before JSON.stringify, which recurses
  const text = JSON.stringify(value);
  if (Buffer.byteLength(text) > MAX_META_BYTES) throw invalid('meta', `must be at most ${MAX_META_BYTES} bytes as JSON`);
  return text;
}

/**
 * 1..128 code points (like the schema), well-formed, and without leading or trailing whitespace:
 * MySQL compares VARCHARs ignoring trailing spaces, so "k" and "k " would be one key there and two
 * on SQLite (and an Idempotency-Key header cannot carry edge whitespace at all).
 */
function checkClientKey(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string' || value.length === 0 || codePoints(value) > MAX_CLIENT_KEY) {
    throw invalid('client_msg_id', `must be 1-${MAX_CLIENT_KEY} characters`);
  }
  checkWellFormed('client_msg_id', value);
  if (value.trim() !== value) throw invalid('client_msg_id', 'must not begin or end with whitespace');
  return value;
}

/** What "the same body" means for an idempotent repeat: content plus meta, key order ignored. */
export function bodyHash(content: string, meta: string | null): string {
  // Without meta the canonical form is known (keys sorted: content, meta): skip building it generically.
  const body = meta === null ? `{"content":${JSON.stringify(content)},"meta":null}` : canonicalJson({ content, meta: JSON.parse(meta) });
  return sha256(body, 'hex');
}

/** A repeat of a stored send: the original if the body matches, CONFLICT if it does not. */
function replay(existing: store.MessageRow, hash: string) {
  if (existing.body_hash !== hash) {
    throw new DomainError('CONFLICT', 'This client_msg_id (Idempotency-Key) was already used with a different body', [
      { field: 'client_msg_id', message: 'already used with a different body' },
    ]);
  }
  return { message: messageOut(existing), created: false };
}

/**
 * One send, checked and ready to store: it is its own request to the store (store.AppendRequest),
 * and builds its message.created event once, from the row that committed (the outbox hook inside
 * the transaction and the announce after COMMIT share it; a batch that is run again calls the hook
 * again, with a new row). `denied`: the caller may not send messages at all (answered after a
 * membership check, so a room they cannot see stays NOT_FOUND).
 */
class PendingSend implements store.AppendRequest {
  msg: store.MessageToAppend;
  slowOk = false;
  /** In a run (sendRun): its first attempt's outcome, and the release of its seq held unannounced. */
  first: store.Outcome<store.AppendResult> | undefined;
  private release: (() => void) | undefined;
  private evt: MessageEvent | undefined;
  private evtRow: store.NewMessageRow | undefined;

  constructor(readonly me: UserCaller, readonly roomId: string, readonly denied: boolean, content: string, meta: string | null,
    readonly clientKey: string | null, readonly hash: string, readonly now: () => number) {
    this.msg = {
      id: uuidv7(), tenant_id: me.tenantId, room_id: roomId, sender_id: me.user.id, content, meta,
      client_msg_id: clientKey, body_hash: hash, edited_at: null, deleted_at: null,
    };
  }

  /** The outbox hook (store/append-types.ts SendEvents). */
  events(row: store.NewMessageRow): MessageEvent[] {
    return [this.event(row)];
  }

  hold(ctx: Ctx, row: store.NewMessageRow): void {
    this.release = ctx.holdAnnounce(row.tenant_id, row.room_id, row.seq);
  }

  unhold(): void {
    this.release?.();
    this.release = undefined;
  }

  event(row: store.NewMessageRow): MessageEvent {
    if (this.evtRow !== row) {
      this.evtRow = row;
      this.evt = { type: 'message.created', tenant_id: row.tenant_id, room_id: row.room_id, message: messageOut(row) };
    }
    return this.evt!;
  }
}

/** Checks a send's input (VALIDATION_ERROR, NOT_FOUND for a room id that cannot be one) before anything is stored. */
function prepare(ctx: Ctx, caller: Caller, roomId: string, input: MessageInput): PendingSend {
  const me = requireUser(caller);
  assertInScope(me, roomId);
  const content = checkText('content', input.content, MAX_CONTENT);
  const meta = checkMeta(input.meta);
  const clientKey = checkClientKey(input.client_msg_id);
  const denied = !me.user.permissions.can_send_message;
  if (!denied && (typeof roomId !== 'string' || roomId.length > 64)) throw notFound('Room');
  return new PendingSend(me, roomId, denied, content, meta, clientKey, bodyHash(content, meta), ctx.now);
}

type Stored = { row: store.NewMessageRow } | { replay: { message: Message; created: boolean } };

/**
 * The rest of a send once its first attempt's outcome is known: stored, or refused by the send
 * gate (archived, muted, slow mode, not a member: sendGate says why, or lets it try again, alone),
 * or a repeated idempotency key (the original, or CONFLICT for another body). In a run (sendRun)
 * this is called in the send's turn, so a retry takes its seq only after the sends before it are done.
 */
async function settle(ctx: Ctx, send: PendingSend, first: store.Outcome<store.AppendResult>): Promise<Stored> {
  const { me, roomId, clientKey, hash } = send;
  let outcome = first;
  for (let attempt = 0; ; attempt++) {
    if ('err' in outcome) {
      const err = outcome.err;
      const prior = clientKey && isUniqueViolation(err) ? await store.findByClientKey(ctx.db, me.tenantId, roomId, me.user.id, clientKey) : undefined;
      if (prior) return { replay: replay(prior, hash) };
      throw err;
    }
    if (outcome.value) return { row: outcome.value };
    const verdict = await sendGate(ctx, me, roomId, send.slowOk, attempt, clientKey);
    if (!verdict.retry) return { replay: replay(verdict.prior, hash) };
    send.slowOk = verdict.slowOk;
    outcome = (await store.appendMessages(ctx.db, [send]))[0]!;
  }
}

/** The caller may not send: a room they cannot see stays NOT_FOUND, one they can see is AUTHORIZATION_ERROR. */
async function refuseDenied(ctx: Ctx, send: PendingSend): Promise<never> {
  await membership(ctx, send.me, send.roomId);
  throw new DomainError('AUTHORIZATION_ERROR', 'You may not send messages');
}

/**
 * The durable send, in as few statements as the guarantees allow (store.appendMessage):
 *   BEGIN; UPDATE rooms … last_seq + 1 … WHERE <caller is a member> (returns the seq); INSERT; COMMIT,
 * with concurrent sends sharing one transaction on SQLite (each in its own savepoint).
 * Membership is checked by the UPDATE itself (0 rows: NOT_FOUND, so rooms don't leak), and the
 * idempotency key by the UNIQUE(room_id, sender_id, client_msg_id) index: a repeat fails its INSERT,
 * rolls back its seq, and answers the stored original (or CONFLICT for another body). A concurrent
 * repeat waits for the room lock, so by then the first has committed and its row is visible.
 * Acknowledged (returned) and published only after COMMIT.
 */
export async function sendMessage(ctx: Ctx, caller: Caller, roomId: string, input: MessageInput) {
  const send = prepare(ctx, caller, roomId, input);
  if (send.denied) await refuseDenied(ctx, send);
  const [first] = await store.appendMessages(ctx.db, [send]);
  const stored = await settle(ctx, send, first!);
  if ('replay' in stored) return stored.replay;
  const { row } = stored;
  const evt = send.event(row);
  ctx.announce([evt]); // already in the outbox, written with the message
  if (isStaffRole(send.me.user.role)) await noteFirstResponse(ctx, row.tenant_id, row.room_id, row.sender_id, row.created_at);
  return { message: evt.message, created: true };
}

/**
 * A WebSocket connection's run of sends (ws/dispatch.ts), stored together and answered in order
 * with one promise for the run instead of a chain per send: every send that passes its checks is
 * submitted at once, consecutively, with the `together` token (store.appendMessages; the group
 * commit keeps a connection's runs in one batch, in submit order), then, once `after` (the
 * previous run's answers) has settled, each send is answered in its place through `answer`: a new
 * message right before its message.created is announced (so the sender's ack precedes it), a
 * repeat with the original, a refusal with its error. An item given as `{ refused }` (a frame the
 * caller already refused, e.g. rate-limited) is answered with that error in its place. A send the
 * store refused goes through the send gate in its turn (settle), after the sends before it are
 * answered, while the sends behind it that committed hold their seqs unannounced (bus/unannounced.ts).
 * Resolves when every send is answered; never rejects (an `answer` that throws is logged).
 */
export async function sendRun(ctx: Ctx, caller: Caller, items: RunItem[], opts: RunOptions): Promise<void> {
  const sends: (PendingSend | { err: unknown })[] = [];
  const toStore: PendingSend[] = [];
  for (const item of items) {
    if ('refused' in item) {
      sends.push({ err: item.refused });
      continue;
    }
    try {
      const send = prepare(ctx, caller, item.room_id, item.input);
      sends.push(send);
      if (!send.denied) toStore.push(send); // a denied send is answered in its turn, after a membership check
    } catch (err) {
      sends.push({ err });
    }
  }
  const outcomes = toStore.length ? await store.appendMessages(ctx.db, toStore, opts.together) : [];
  // Anything to wait for before the last announce (the previous run, a send that must ask the
  // send gate or read its original, a staff member's first-response note): the committed seqs
  // are held until each is announced.
  let wait = opts.after !== undefined || toStore.length !== sends.length || (toStore.length > 0 && isStaffRole(toStore[0]!.me.user.role));
  for (let k = 0; k < toStore.length; k++) {
    const o = (toStore[k]!.first = outcomes[k]!);
    if (!('value' in o && o.value)) wait = true;
  }
  if (wait) for (const send of toStore) if ('value' in send.first! && send.first.value) send.hold(ctx, send.first.value);
  try {
    if (opts.after) await opts.after.then(undefined, ignore); // answered after it, however it ended
    for (let i = 0; i < sends.length; i++) {
      const send = sends[i]!;
      try {
        if (!(send instanceof PendingSend)) throw send.err;
        if (send.denied) await refuseDenied(ctx, send);
        const first = send.first!;
        const stored = 'value' in first && first.value ? { row: first.value } : await settle(ctx, send, first);
        if ('replay' in stored) {
          answer(ctx, opts, i, stored.replay);
          continue;
        }
        const evt = send.event(stored.row);
        answer(ctx, opts, i, { message: evt.message, created: true });
        ctx.announce([evt]);
        send.unhold();
        if (isStaffRole(send.me.user.role)) await noteFirstResponse(ctx, stored.row.tenant_id, stored.row.room_id, stored.row.sender_id, stored.row.created_at);
      } catch (err) {
        answer(ctx, opts, i, { err });
      }
    }
  } finally {
    if (wait) for (const send of toStore) send.unhold();
  }
}

const ignore = () => {};

/**
 * One answer of a run. A callback that throws is logged and changes nothing else: a stored send
 * is still announced, and is never answered a second time as a failure.
 */
function answer(ctx: Ctx, opts: RunOptions, i: number, result: Parameters<RunOptions['answer']>[1]): void {
  try {
    opts.answer(i, result);
  } catch (err) {
    ctx.log.error({ err }, 'answering a send of a run failed');
  }
}

/** A staff member's message in a ticket may be its first response (tickets.first_response_at). */
async function noteFirstResponse(ctx: Ctx, tenantId: string, roomId: string, senderId: string, at: number): Promise<void> {
  try {
    await markFirstResponse(ctx.db, tenantId, roomId, senderId, at);
  } catch (err) {
    // The message is stored and acknowledged; a missed figure must not turn that into a failure.
    ctx.log.error({ err, room_id: roomId }, 'recording a ticket first response failed');
  }
}

function assertMayReceive(m: Membership): void {
  if (!m.me.user.permissions.can_receive_message) throw new DomainError('AUTHORIZATION_ERROR', 'You may not read messages');
}

/** after_seq: the first `limit` after it. before_seq only: the last `limit` before it. Neither: the newest. */
async function list(ctx: Ctx, caller: Caller, roomId: string, q: MessageQuery) {
  const limit = checkLimit(q.limit);
  const afterSeq = q.after_seq === undefined ? undefined : checkInt('after_seq', q.after_seq, 0);
  const beforeSeq = q.before_seq === undefined ? undefined : checkInt('before_seq', q.before_seq, 1);
  const m = await membership(ctx, caller, roomId);
  assertMayReceive(m);
  const newestFirst = afterSeq === undefined;
  const rows = await store.listRoomMessages(ctx.db, m.me.tenantId, m.room.id, { afterSeq, beforeSeq, limit: limit + 1, newestFirst });
  const page = rows.slice(0, limit);
  if (newestFirst) page.reverse();
  return { items: page.map(messageOut), has_more: rows.length > limit };
}

async function loadMessage(ctx: Ctx, m: Membership, messageId: string): Promise<store.MessageRow> {
  const row = typeof messageId === 'string' ? await store.findMessage(ctx.db, m.me.tenantId, m.room.id, messageId) : undefined;
  if (!row) throw notFound('Message');
  return row;
}

async function edit(ctx: Ctx, caller: Caller, roomId: string, messageId: string, patch: { content?: string; meta?: Record<string, unknown> | null }) {
  if (patch.content === undefined && patch.meta === undefined) throw invalid('body', 'give content and/or meta');
  const changes: store.MessagePatch = {};
  if (patch.content !== undefined) changes.content = checkText('content', patch.content, MAX_CONTENT);
  if (patch.meta !== undefined) changes.meta = checkMeta(patch.meta);
  const m = await membership(ctx, caller, roomId);
  const row = await loadMessage(ctx, m, messageId);
  if (row.sender_id !== m.me.user.id && !m.me.user.permissions.can_edit_message) {
    throw new DomainError('AUTHORIZATION_ERROR', "Editing other people's messages needs can_edit_message");
  }
  if (row.deleted_at !== null) throw new DomainError('CONFLICT', 'The message has been deleted');
  // body_hash stays: it identifies the original send, so a late retry of it still replays.
  changes.edited_at = ctx.now();
  const message = messageOut({ ...row, ...changes });
  await ctx.change(async (trx, emit) => {
    // Deleted between our read and this write: the delete wins.
    if ((await store.updateLiveMessage(trx, m.me.tenantId, row.id, changes)) === 0) throw new DomainError('CONFLICT', 'The message has been deleted');
    emit({ type: 'message.updated', tenant_id: m.me.tenantId, room_id: row.room_id, message });
  });
  return message;
}

/** Leaves a tombstone in place so the room's seq stays gap-free. Deleting twice is harmless. */
async function remove(ctx: Ctx, caller: Caller, roomId: string, messageId: string): Promise<Message> {
  const m = await membership(ctx, caller, roomId);
  const row = await loadMessage(ctx, m, messageId);
  const allowed = row.sender_id === m.me.user.id || m.room.my_role === 'owner' || m.room.my_role === 'moderator' || m.me.user.permissions.can_delete_message;
  if (!allowed) throw new DomainError('AUTHORIZATION_ERROR', "Deleting other people's messages needs can_delete_message or a room moderator");
  if (row.deleted_at !== null) return messageOut(row);
  const changes = { content: '', meta: null, deleted_at: ctx.now() };
  const message = messageOut({ ...row, ...changes });
  const won = await ctx.change(async (trx, emit) => {
    // A concurrent delete got there first: answer its tombstone, and publish only once.
    if ((await store.updateLiveMessage(trx, m.me.tenantId, row.id, changes)) === 0) return false;
    emit({ type: 'message.deleted', tenant_id: m.me.tenantId, room_id: row.room_id, message });
    return true;
  });
  return won ? message : messageOut(await loadMessage(ctx, m, row.id));
}

/**
 * Everything after a cursor across the caller's rooms, in the order messages became visible
 * (store/feed.ts), so following next_cursor sees every message exactly once under any
 * concurrency. The cursor is that feed position; next_cursor is where to resume, so a poller
 * keeps it even when caught up (null only when there is nothing to resume from yet).
 */
async function listAfter(ctx: Ctx, caller: Caller, q: { after?: string; limit?: number }) {
  const me = requireUser(caller);
  const limit = checkLimit(q.limit);
  const after = q.after ? decodeCursor<[number]>(q.after, ['number'], 'after')[0] : 0;
  if (!me.user.permissions.can_receive_message) throw new DomainError('AUTHORIZATION_ERROR', 'You may not read messages');
  const rows = await feed.listFeed(ctx.db, me.tenantId, me.user.id, after, limit);
  const last = rows[rows.length - 1];
  const next = last ? encodeCursor([last.position]) : (q.after ?? null);
  return { items: rows.map(messageOut), next_cursor: next };
}

export function messagesApi(ctx: Ctx): Domain['messages'] {
  return {
    send: (caller, roomId, input) => sendMessage(ctx, caller, roomId, input),
    sendRun: (caller, items, opts) => sendRun(ctx, caller, items, opts),
    list: (caller, roomId, q) => list(ctx, caller, roomId, q),
    async get(caller, roomId, messageId) {
      const m = await membership(ctx, caller, roomId);
      assertMayReceive(m);
      return messageOut(await loadMessage(ctx, m, messageId));
    },
    edit: (caller, roomId, messageId, patch) => edit(ctx, caller, roomId, messageId, patch),
    remove: (caller, roomId, messageId) => remove(ctx, caller, roomId, messageId),
    listAfter: (caller, q) => listAfter(ctx, caller, q),
  };
}

/**
 * Frame dispatch: parse and validate (generated validators), rate-limit, then one thin handler per
 * frame type that calls the same domain functions as REST and shapes the reply. Frames of one
 * connection are handled one after another, so a client's sends keep their order, except that
 * message.send frames are pipelined: a run of consecutive ones is submitted to the group commit at
 * once (sendRun), so they are stored in one batch in frame order, and the next run is submitted
 * as soon as it arrives, without waiting for the previous one's answers, so it joins the next batch
 * while that one commits (right behind the connection's sends already queued for it). Answers
 * still go out in frame order, and any other frame is handled only after every send before it is
 * answered. The node's sends submitted and not yet answered are bounded (ctx.admission,
 * send-admission.ts): beyond it a run waits its turn as text, with the frames that join it meanwhile.
 */
import { DomainError, isDomainError } from '../domain/errors.ts';
import type { RunItem, RunOptions } from '../domain/types.ts';
import type { Message } from '../domain/wire.ts';
import { isDatabaseUnavailable, OUTAGE_RETRY_AFTER_S } from '../store/availability.ts';
import { limitsFor } from '../ratelimit/index.ts';
import type { WsContext } from './context.ts';
import { type Conn, canRead, isOpen, roomKey } from './conn.ts';
import { CloseCode } from './close-codes.ts';
import { type ClientFrame, type FrameProblem, type Parsed, encode, encodeAck, parseClientFrame, sendEcho } from './frames.ts';
import { authenticateFrame } from './session.ts';
import { type Positions, startSync, syncRoom } from './sync.ts';

/** Frames accepted while a connection is still being set up (beyond: error, not memory). */
const MAX_QUEUED = 256;

export function onText(ctx: WsContext, conn: Conn, text: string): void {
  switch (conn.phase) {
    case 'auth':
      return authPhase(ctx, conn, text);
    case 'connecting':
      if ((conn.queue ??= []).length < MAX_QUEUED) conn.queue.push(text);
      else sendError(ctx, conn, { code: 'RATE_LIMIT_EXCEEDED', message: 'Too many frames before the connection was ready', retry_after_ms: 100 });
      return;
    case 'ready':
      return enqueue(ctx, conn, text);
    case 'draining':
      return sendError(ctx, conn, { ...echoOf(text), code: 'SERVICE_UNAVAILABLE', message: 'The server is shutting down; reconnect and resend', retry_after_ms: 1000 });
  }
}

/**
 * Between two frames of one backlog, yield to the event loop: frames that complete in microtasks
 * (an error, a pong, a run of sends handed to the group commit) must not let one connection run a
 * thousand frames in one loop iteration, because uWS writes published frames out (and updates
 * backpressure) per iteration. A frame whose handling already spanned a loop iteration needs no
 * further yield: `turn` counts iterations, with one setImmediate per iteration for all connections
 * instead of one per frame. After a backlog's last frame there is no yield: frames behind it come
 * from a later read of the socket, and a yield would keep the sends among them out of the batch
 * the group commit cuts in this iteration (its own setImmediate).
 */
const yieldToLoop = () => new Promise<void>((resolve) => setImmediate(resolve));
let turn = 0;
let turnWatched = false;
function currentTurn(): number {
  if (!turnWatched) {
    turnWatched = true;
    setImmediate(() => {
      turnWatched = false;
      turn += 1;
    });
  }
  return turn;
}

export function enqueue(ctx: WsContext, conn: Conn, text: string): void {
  // uWS cannot stop reading a WebSocket, so a client that sends faster than its frames are handled
  // is answered at once beyond the bound instead of queued: its memory stays bounded.
  if (conn.inFlight >= ctx.config.wsMaxPendingFrames || conn.pendingChars + text.length > ctx.config.wsMaxPendingBytes) {
    return sendError(ctx, conn, {
      ...echoOf(text), code: 'RATE_LIMIT_EXCEEDED', retry_after_ms: 100,
      message: 'Too many frames waiting on this connection; wait for answers before sending more',
    });
  }
  conn.inFlight += 1;
  conn.pendingChars += text.length;
  const waiting = conn.backlog;
  if (waiting) {
    waiting.push(text);
    return;
  }
  const backlog = [text];
  conn.backlog = backlog;
  conn.chain = (conn.chain ?? Promise.resolve()).then(() => {
    conn.backlog = undefined; // frames from now on go to the next step of the chain
    return handleBacklog(ctx, conn, backlog);
  });
}

/** Resolves when the connection's frames are handled and its sends answered (graceful shutdown; no new frames are taken then). */
export async function settled(conn: Conn): Promise<void> {
  await conn.chain;
  await conn.pipeline?.last;
}

/**
 * Most sends of one connection submitted and not yet answered, in one run or several (and so in
 * one batch beyond the group commit's maxBatch): a connection that sends faster than batches
 * commit waits for its earlier sends before it submits more, so it cannot fill the group commit's
 * queue ahead of every other connection.
 */
const MAX_RUN = 64;
/**
 * Most characters of those frames (a frame's message.created is about its text plus ~256). Sends
 * of one connection that share a batch are published in one loop iteration, and uWS writes
 * published frames out (and updates a subscriber's backpressure) per iteration: the slow-consumer
 * check (router.ts) must see a full buffer before it outgrows uWS's hard cap, at least 256 KiB
 * above the limit (node.ts).
 */
const RUN_CHARS = 64 * 1024;
const FRAME_OVERHEAD = 256;
/** Frames that arrived while this step waited to be admitted: taken into it, in order (the step chained for them finds its backlog empty). */
function absorb(conn: Conn, texts: string[]): void {
  const more = conn.backlog;
  if (!more?.length) return;
  for (const t of more) texts.push(t);
  more.length = 0;
}

/**
 * One step of the connection's chain: its frames in order, each handled (or, for a run of
 * consecutive sends, submitted: its frames stay counted in inFlight until its sends are answered),
 * with a yield between two that ran within one loop iteration. Never rejects.
 */
async function handleBacklog(ctx: WsContext, conn: Conn, texts: string[]): Promise<void> {
  let parsedNext: Parsed | undefined;
  for (let i = 0; i < texts.length;) {
    let n = 1;
    let answeredLater = false; // a submitted run's frames are released when its sends are answered
    try {
      const started = currentTurn();
      if (isOpen(conn)) {
        const parsed = parsedNext ?? parse(ctx, texts[i]!);
        parsedNext = undefined;
        if (parsed.ok && parsed.frame.type === 'message.send') {
          // Admitted before its run is cut: places for every frame it has and that arrive while it
          // waits (taken into this step), so a connection that waited submits its whole window as one run.
          // (An inline callback, not a named const: see keep-names.ts.)
          let reserved = ctx.admission.acquire(() => texts.length - i + (conn.backlog?.length ?? 0));
          if (typeof reserved !== 'number') {
            reserved = await reserved;
            absorb(conn, texts);
          }
          if (!isOpen(conn)) {
            ctx.admission.release(reserved);
            continue;
          }
          const run = [parsed.frame];
          let runChars = texts[i]!.length + FRAME_OVERHEAD;
          while (i + n < texts.length && n < MAX_RUN && (runChars += texts[i + n]!.length + FRAME_OVERHEAD) <= RUN_CHARS) {
            const next = parse(ctx, texts[i + n]!);
            if (!next.ok || next.frame.type !== 'message.send') {
              parsedNext = next; // handled on its own, after the run
              break;
            }
            run.push(next.frame);
            n += 1;
          }
          ctx.admission.adjust(n - reserved); // the places of frames that did not join this run go back at once
          const chars = textChars(texts, i, n);
          const weight = chars + n * FRAME_OVERHEAD;
          const ahead = conn.pipeline;
          if (ahead && (ahead.sends + n > MAX_RUN || ahead.chars + weight > RUN_CHARS)) await ahead.last;
          let submitted: SubmittedRun;
          try {
            const pending = sendRun(ctx, conn, run, conn.pipeline?.last);
            submitted = pending instanceof Promise ? await pending : pending;
          } catch (err) {
            ctx.admission.release(n);
            throw err;
          }
          answeredLater = true;
          pipelined(ctx, conn, submitted, n, chars, weight);
        } else {
          const ahead = conn.pipeline;
          if (ahead) await ahead.last; // every send before this frame is answered first
          await handle(ctx, conn, parsed);
        }
      } else {
        parsedNext = undefined;
      }
      if (turn === started && i + n < texts.length) await yieldToLoop(); // more frames of this backlog: let the loop turn first
    } catch (err) {
      ctx.log.error({ err, conn: conn.id }, 'ws: frame handler failed');
    } finally {
      if (!answeredLater) release(conn, n, textChars(texts, i, n));
      i += n;
    }
  }
  // No frames behind these (a frame arriving meanwhile would have opened a backlog and a next
  // step): no chain kept while idle.
  if (!conn.backlog) conn.chain = undefined;
}

function textChars(texts: string[], from: number, n: number): number {
  let chars = 0;
  for (let k = from; k < from + n; k++) chars += texts[k]!.length;
  return chars;
}

function release(conn: Conn, frames: number, chars: number): void {
  conn.inFlight -= frames;
  conn.pendingChars -= chars;
}

/** A submitted run joins the connection's pipeline; its frames (and admission places) stay counted until its sends are answered. */
function pipelined(ctx: WsContext, conn: Conn, run: SubmittedRun, frames: number, chars: number, weight: number): void {
  let p = conn.pipeline;
  if (p) {
    p.last = run.done;
    p.sends += frames;
    p.chars += weight;
  } else {
    conn.pipeline = p = { last: run.done, sends: frames, chars: weight };
  }
  const pipeline = p;
  void run.done.then(() => {
    ctx.admission.release(frames);
    release(conn, frames, chars);
    pipeline.sends -= frames;
    pipeline.chars -= weight;
    if (pipeline.sends === 0 && conn.pipeline === pipeline) conn.pipeline = undefined;
  });
}

function parse(ctx: WsContext, text: string): Parsed {
  const parsed = parseClientFrame(text);
  ctx.observer.frameIn(parsed.ok ? parsed.frame.type : 'invalid');
  return parsed;
}

export function sendError(ctx: WsContext, conn: Conn, problem: FrameProblem): void {
  ctx.router.send(conn, encode({ type: 'error', ...problem }));
}

function authPhase(ctx: WsContext, conn: Conn, text: string): void {
  const parsed = parse(ctx, text);
  if (!parsed.ok) {
    // A token the schema refuses (not a string, empty, over 4096 characters) is a bad credential
    // like any other: close with 4003 at once, not an error frame and a wait for the 4001 timeout.
    if (parsed.problem.frame === 'auth' && parsed.problem.details?.some((d) => d.field === 'token')) return ctx.router.kick(conn, CloseCode.BAD_CREDENTIALS);
    return sendError(ctx, conn, parsed.problem);
  }
  if (parsed.frame.type !== 'auth') {
    return sendError(ctx, conn, { code: 'AUTHENTICATION_ERROR', message: 'Authenticate first: send an auth frame', frame: parsed.frame.type, ...refOf(parsed.frame) });
  }
  void authenticateFrame(ctx, conn, parsed.frame);
}

/** One frame other than message.send (those go to sendRun). */
async function handle(ctx: WsContext, conn: Conn, parsed: Parsed): Promise<void> {
  if (!parsed.ok) return sendError(ctx, conn, parsed.problem);
  const frame = parsed.frame;
  if (frame.type === 'message.send') return (await sendRun(ctx, conn, [frame])).done;
  if (!conn.syncStarted && frame.type !== 'resume') startSync(ctx.sync, conn, new Map());
  const echo = { frame: frame.type, ...refOf(frame) };
  try {
    if (ctx.limiter && frame.type !== 'ping') {
      const decision = await ctx.limiter.consume(conn.tenant!.id, limitsFor(conn.tenant!.settings, ctx.config));
      if (!decision.allowed) {
        ctx.observer.rateLimited();
        return sendError(ctx, conn, { ...echo, code: 'RATE_LIMIT_EXCEEDED', message: 'Rate limit exceeded', retry_after_ms: decision.retryAfterMs });
      }
    }
    await HANDLERS[frame.type](ctx, conn, frame as never);
  } catch (err) {
    answerFailure(ctx, conn, frame.type, echo, err);
  }
}

/** A frame's failure as its error frame (domain errors as they are, an outage as 503, the rest as 500). */
function answerFailure(ctx: WsContext, conn: Conn, type: string, echo: Partial<FrameProblem>, err: unknown): void {
  if (!isOpen(conn)) return;
  if (isDomainError(err)) {
    return sendError(ctx, conn, {
      ...echo, code: err.code, message: err.message, ...(err.details.length ? { details: err.details } : {}),
      ...(err.retryAfterMs !== undefined ? { retry_after_ms: err.retryAfterMs } : {}),
    });
  }
  if (isDatabaseUnavailable(err)) {
    ctx.log.warn({ err, conn: conn.id, frame: type }, 'ws: database unavailable');
    return sendError(ctx, conn, { ...echo, code: 'SERVICE_UNAVAILABLE', message: 'The database is unavailable; retry later', retry_after_ms: OUTAGE_RETRY_AFTER_S * 1000 });
  }
  ctx.log.error({ err, conn: conn.id, frame: type }, 'ws: frame failed');
  sendError(ctx, conn, { ...echo, code: 'INTERNAL_ERROR', message: 'Internal error' });
}

type SendFrame = Extract<ClientFrame, { type: 'message.send' }>;

/**
 * Consecutive message.send frames of one connection, pipelined: each is rate-limited (in frame
 * order), then all are handed to the domain at once (domain messages.sendRun) with the connection
 * as their `together` token, so the group commit stores them in one batch in frame order (their
 * seqs in a room follow the frames) instead of one commit per frame, together with the
 * connection's sends still queued for a batch, if any (group-commit.ts: a sender's window gathers
 * into one run per room). The run is answered once `after` (the connection's previous run's
 * answers) has settled, each send in its place: the ack of a new message before its
 * message.created, a repeat's ack, a refusal's error frame; a send refused by the send gate asks
 * it again only after the sends before it are answered (a retried send in slow mode takes its seq
 * then). While a committed send waits, its seq is a gap in the room's live stream that this node
 * does not fill from the database (bus/unannounced.ts), however long the sends before it take (up
 * to unannouncedMaxWaitMs). A send that fails is answered in its place and disturbs none of the
 * others. Returns once the sends are submitted (the group commit queues them in submit order, and
 * one batch commits at a time, so a later run's seqs follow): synchronously with an in-memory
 * limiter, a promise with Redis. Its `done` settles when every send of it is answered.
 */
function sendRun(ctx: WsContext, conn: Conn, frames: SendFrame[], after?: Promise<void>): SubmittedRun | Promise<SubmittedRun> {
  if (!conn.syncStarted) startSync(ctx.sync, conn, new Map());
  const limiter = ctx.limiter;
  if (!limiter) return submitRun(ctx, conn, frames, undefined, after);
  const limits = limitsFor(conn.tenant!.settings, ctx.config);
  const tenantId = conn.tenant!.id;
  if (limiter.consumeNow) return submitRun(ctx, conn, frames, frames.map(() => limiter.consumeNow!(tenantId, limits)), after);
  return Promise.all(frames.map(() => limiter.consume(tenantId, limits).catch((err: unknown) => ({ err }))))
    .then((decided) => submitRun(ctx, conn, frames, decided, after));
}

interface SubmittedRun { done: Promise<void> }
type Decided = { allowed: boolean; retryAfterMs: number } | { err: unknown };

function submitRun(ctx: WsContext, conn: Conn, frames: SendFrame[], decided: Decided[] | undefined, after?: Promise<void>): SubmittedRun {
  const items: RunItem[] = new Array(frames.length);
  for (let i = 0; i < frames.length; i++) {
    const { room_id, content, meta, client_msg_id } = frames[i]!;
    const decision = decided?.[i];
    if (decision && 'err' in decision) items[i] = { refused: decision.err };
    else if (decision && !decision.allowed) {
      ctx.observer.rateLimited();
      items[i] = { refused: new DomainError('RATE_LIMIT_EXCEEDED', 'Rate limit exceeded', [], decision.retryAfterMs) };
    } else items[i] = { room_id: roomKey(room_id), input: { content, meta, client_msg_id } }; // the node's own string for the room (conn.ts)
  }
  const answers = new RunAnswers(ctx, conn, frames, after);
  const done = ctx.domain.messages.sendRun(conn.caller!, items, answers)
    .catch((err: unknown) => ctx.log.error({ err, conn: conn.id }, 'ws: answering a run of sends failed'));
  return { done };
}

/**
 * A run's options for the domain (RunOptions): a class, not an object literal with an `answer`
 * closure, because a named closure made per run costs a defineProperty under tsx (keep-names.ts).
 */
class RunAnswers implements RunOptions {
  /** `together`: the connection, whose runs share a batch (and whose answers these are). */
  constructor(private readonly ctx: WsContext, readonly together: Conn, private readonly frames: SendFrame[], readonly after: Promise<void> | undefined) {}

  answer(i: number, result: { message: Message; created: boolean } | { err: unknown }): void {
    const frame = this.frames[i]!;
    const { ctx, together: conn } = this;
    if ('err' in result) return answerFailure(ctx, conn, frame.type, sendEcho(frame), result.err);
    const bytes = encodeAck(frame.client_msg_id, result.created, result.message, frame.ref);
    // a new message's ack joins the sender's copy of its message.created in one write (router.sendAck)
    if (result.created) ctx.router.sendAck(conn, result.message.room_id, bytes);
    else ctx.router.send(conn, bytes);
  }
}

type Handler<T extends ClientFrame['type']> = (ctx: WsContext, conn: Conn, frame: Extract<ClientFrame, { type: T }>) => Promise<void> | void;

const HANDLERS: { [T in Exclude<ClientFrame['type'], 'message.send'>]: Handler<T> } = {
  auth: (ctx, conn, frame) => sendError(ctx, conn, { code: 'VALIDATION_ERROR', message: 'Already authenticated', frame: 'auth', ...refOf(frame) }),

  ack: async (ctx, conn, frame) => {
    await ctx.domain.receipts.ack(conn.caller!, { room_id: frame.room_id, seq: frame.seq });
  },

  read: async (ctx, conn, frame) => {
    await ctx.domain.receipts.read(conn.caller!, frame.room_id, { seq: frame.seq });
  },

  'typing.start': async (ctx, conn, frame) => {
    const roomId = memberRoom(conn, frame.room_id);
    await ctx.domain.moderation.assertMayType(conn.caller!, roomId); // muted or archived: refused like a send
    ctx.typing.start(conn, roomId);
  },
  'typing.stop': (ctx, conn, frame) => ctx.typing.stop(conn, memberRoom(conn, frame.room_id)),

  resume: (ctx, conn, frame) => resume(ctx, conn, frame.rooms, frame.ref),

  ping: (ctx, conn, frame) => ctx.router.send(conn, encode({ type: 'pong', server_time: new Date().toISOString(), ...refOf(frame) })),
};

/** Replay the listed rooms from the given seqs; the others (first time only) from the delivered cursor. */
export function resume(ctx: WsContext, conn: Conn, rooms: { room_id: string; last_seq: number }[], ref?: string): void {
  if (!canRead(conn)) {
    conn.syncStarted = true;
    return sendError(ctx, conn, { code: 'AUTHORIZATION_ERROR', message: 'You may not read messages', frame: 'resume', ...(ref ? { ref } : {}) });
  }
  const unknown = rooms.map((r, i) => ({ r, i })).filter(({ r }) => !conn.rooms.has(r.room_id));
  if (unknown.length) {
    sendError(ctx, conn, {
      code: 'NOT_FOUND', message: 'Not rooms of yours (ignored; the others resume)', frame: 'resume', ...(ref ? { ref } : {}),
      details: unknown.map(({ i }) => ({ field: `rooms[${i}].room_id`, message: 'room not found' })),
    });
  }
  const positions: Positions = new Map(rooms.filter((r) => conn.rooms.has(r.room_id)).map((r) => [r.room_id, r.last_seq]));
  if (!conn.syncStarted) return startSync(ctx.sync, conn, positions, ref);
  for (const [roomId, seq] of positions) void syncRoom(ctx.sync, conn, roomId, seq, ref);
}

function memberRoom(conn: Conn, roomId: string): string {
  if (!conn.rooms.has(roomId)) throw new DomainError('NOT_FOUND', 'Room not found');
  return roomId;
}

const refOf = (frame: { ref?: string }) => (frame.ref ? { ref: frame.ref } : {});

/** Best effort: name the frame in an error even when we will not parse it properly. */
function echoOf(text: string): Partial<FrameProblem> {
  const parsed = parseClientFrame(text);
  if (parsed.ok) return parsed.frame.type === 'message.send' ? sendEcho(parsed.frame) : { frame: parsed.frame.type, ...refOf(parsed.frame) };
  const { frame, ref, client_msg_id } = parsed.problem;
  return { ...(frame ? { frame } : {}), ...(ref ? { ref } : {}), ...(client_msg_id ? { client_msg_id } : {}) };
}

/**
 * Fan-out on one node. Live events become one frame each (serialized once by the caller) and go
 * to uWS `publish` on the room's topic; uWS copies the bytes to every subscriber natively.
 *
 * A connection joins a room's topic only after it has caught up with the room (replay): until
 * then it is *pending* and the room's live frames are held for it. The handoff (`tryHandoff`)
 * sends the held frames the topic will not deliver again, subscribes, and confirms with
 * `sync.complete`, all in one synchronous step, so nothing is missed or repeated.
 */
import type { TemplatedApp } from 'uWebSockets.js';
import { CloseCode, CloseReason } from './close-codes.ts';
import { type AckQueue, type Conn, type Held, type RoomSync, clearConnTimer, connTimer, isOpen, NOTHING_HELD, roomTopic } from './conn.ts';
import type { Message } from '../domain/wire.ts';
import { encode } from './frames.ts';
import type { WsObserver } from './observer.ts';
import { type Found, Sequencer, type SequencerHooks } from './sequencer.ts';
import { trace, tracing } from './trace.ts';
import type { Unannounced } from '../bus/unannounced.ts';

/** Longest a reader past maxBackpressureBytes waits for its 4008 while less than checkEveryBytes is published. */
const CHECK_EVERY_MS = 50;

export interface RouterOptions {
  maxBackpressureBytes: number;
  /** Publish at most this many bytes between two slow-consumer checks (keeps buffers below uWS's hard cap). */
  checkEveryBytes: number;
  /** How long a paced (replay) send waits for the client to read before closing it with 4008. */
  drainTimeoutMs: number;
  /** Most frames held for one pending room before the connection is told to resume instead. */
  maxHeld: number;
  /** How long a handoff waits for the bus to catch up with the replay (then proceeds). */
  handoffTimeoutMs: number;
  /** How long a seq gap may hold back later frames of a room before it is filled from the database. */
  gapMs: number;
  /** Counts deliveries and slow-consumer kicks. */
  observer: WsObserver;
  /** This process's committed messages not yet announced: gaps at their seqs are not filled (bus/unannounced.ts) … */
  unannounced: Unannounced;
  /** … for at most this long (then filled like any gap). */
  unannouncedMaxWaitMs: number;
  /** Stored messages of a room after `afterSeq`, read as `conn` (a member): fills gaps in the live stream. */
  loadMessages(conn: Conn, roomId: string, afterSeq: number, limit: number): Promise<Message[]>;
}

/**
 * One topic every session's socket subscribes to and nothing is published on. uWS frees a
 * socket's subscriber when it leaves its last topic, dropping frames published to it in this loop
 * iteration and not yet written out: a member.banned published to the room, then the room left,
 * never reached the banned member. With this the subscriber lives as long as the socket, as it
 * did with a topic per user, without a topic (~420 B of native memory) per connected user.
 */
const ANCHOR_TOPIC = '~';

/** What a room's sequencer is tagged with: the shared hooks (Router.roomHooks) act on that room. */
interface RoomTag {
  topic: string;
  tenantId: string;
  roomId: string;
}

export class Router {
  private readonly sequencers = new Map<string, Sequencer<RoomTag>>();
  private readonly pending = new Map<string, Set<Conn>>();
  private readonly live = new Map<string, Set<Conn>>();
  /**
   * tenant → user → that user's connections here. Frames for a user are sent to these directly:
   * a uWS topic per user cost ~420 B of native memory per connected user, and keying by the ids
   * the sessions hold (not a `t:…:u:…` string) and a small array (not a Set) save ~350 B more.
   */
  private readonly users = new Map<string, Map<string, Conn[]>>();
  private readonly dirty = new Set<string>();
  /**
   * topic → live connections holding acks for it (sendAck); the first carries the topic's frames
   * for itself. Every connection holding acks is in a list here (and in no list once written).
   */
  private readonly carriers = new Map<string, Conn[]>();
  private acksScheduled = false;
  private checkScheduled = false;
  private publishedSinceCheck = 0;

  /** One set of hooks for every room's sequencer (each call names its room). */
  private readonly roomHooks: SequencerHooks<RoomTag> = {
    publish: (bytes, r) => this.publish(r.topic, bytes),
    onAdvance: (r) => this.recheck(r.topic, r.roomId),
    load: (from, to, r) => this.load(r.topic, r.roomId, from, to),
    gap: (outcome) => this.opts.observer.gap(outcome),
    unannounced: (from, to, r) => this.opts.unannounced.lowest(r.tenantId, r.roomId, from, to),
  };

  constructor(private readonly app: TemplatedApp, private readonly opts: RouterOptions) {}

  /** Direct send to one connection, with the slow-consumer check. */
  send(conn: Conn, bytes: Buffer): void {
    if (!isOpen(conn)) return;
    if (conn.acks) this.flushAcks(conn); // its frames keep their order
    conn.ws.send(bytes, false);
    this.opts.observer.delivered(1);
    if (conn.ws.getBufferedAmount() > this.opts.maxBackpressureBytes) this.kick(conn, CloseCode.SLOW_CONSUMER);
  }

  /**
   * Send for bulk output (replay): instead of treating a full buffer as a slow consumer, wait
   * until the client has read it down to half the limit (uWS `drain`); a client that reads
   * nothing for `drainTimeoutMs` is closed with 4008 after all.
   */
  async sendPaced(conn: Conn, bytes: Buffer): Promise<void> {
    if (!isOpen(conn)) return;
    if (conn.acks) this.flushAcks(conn);
    conn.ws.send(bytes, false);
    this.opts.observer.delivered(1);
    if (conn.ws.getBufferedAmount() <= this.opts.maxBackpressureBytes / 2) return;
    await new Promise<void>((resolve) => {
      const timer = connTimer(conn, this.opts.drainTimeoutMs, () => this.kick(conn, CloseCode.SLOW_CONSUMER));
      (conn.drainWaiters ??= []).push(() => {
        clearConnTimer(conn, timer);
        resolve();
      });
    });
  }

  /**
   * A new message's `message.ack`, written in one socket write with the sender's own
   * `message.created` instead of a write of its own. A direct send to a socket is a system call of
   * its own (outside uWS's handlers nothing is corked), and the topic's frame reaches the sender in
   * another one; the profile of small rooms put the ack's write at a tenth of the node's time.
   * So the ack waits in `conn.acks` until the end of this loop turn (setImmediate) at most; a
   * frame published on the room's topic meanwhile goes to the others by the sender's own socket
   * (`ws.publish` skips it) and joins the waiting ack, in order. Any other frame for the
   * connection (a direct send, leaving the topic, a close) writes the waiting frames first, so
   * the connection's frames keep their order: the ack before its message.created, answers in
   * frame order. When the room's frame comes later (a gap, another node's bus), the ack has gone
   * out alone by then, as before.
   */
  sendAck(conn: Conn, roomId: string, bytes: Buffer): void {
    if (!isOpen(conn)) return;
    const topic = roomTopic(conn.tenant!.id, roomId);
    if (!this.live.get(topic)?.has(conn)) return this.send(conn, bytes); // not on the topic: nothing to join
    const acks = (conn.acks ??= { frames: [], topics: [] });
    acks.frames.push(bytes);
    this.opts.observer.delivered(1);
    if (!acks.topics.includes(topic)) {
      acks.topics.push(topic);
      const carriers = this.carriers.get(topic);
      if (carriers) carriers.push(conn);
      else this.carriers.set(topic, [conn]);
    }
    if (!this.acksScheduled) {
      this.acksScheduled = true;
      setImmediate(() => this.flushAllAcks());
    }
  }

  /** The end of the loop turn: every held ack goes out (each flush takes its connection out of every list). */
  private flushAllAcks(): void {
    this.acksScheduled = false;
    for (const carriers of this.carriers.values()) while (carriers.length) this.flushAcks(carriers[0]!);
  }

  /** Writes a connection's waiting acks and the frames queued behind them, in one write. */
  private flushAcks(conn: Conn): void {
    const acks = conn.acks;
    if (!acks) return;
    this.dropAcks(conn, acks);
    if (!isOpen(conn)) return;
    const { ws } = conn;
    ws.cork(() => {
      for (const frame of acks.frames) ws.send(frame, false);
    });
    // Not from inside a publish (this may run in one): closing changes the sets being published to.
    if (ws.getBufferedAmount() > this.opts.maxBackpressureBytes) queueMicrotask(() => this.kick(conn, CloseCode.SLOW_CONSUMER));
  }

  /**
   * The connection that takes a frame of `topic` into its waiting acks: the first one waiting
   * with an ack for the room. The others' acks go out now, before the frame reaches them.
   */
  private carrierOf(topic: string): Conn | undefined {
    const carriers = this.carriers.get(topic);
    if (!carriers) return undefined;
    while (carriers.length > 1) this.flushAcks(carriers[carriers.length - 1]!);
    return carriers[0]; // open: a closing connection's acks are dropped (forget)
  }

  private dropAcks(conn: Conn, acks: AckQueue): void {
    conn.acks = undefined;
    for (const topic of acks.topics) {
      const carriers = this.carriers.get(topic);
      if (!carriers) continue;
      const at = carriers.indexOf(conn);
      if (at >= 0) carriers.splice(at, 1);
      if (carriers.length === 0) this.carriers.delete(topic);
    }
  }

  /** uWS `drain`: the client read some; wake paced senders once the buffer is low again. */
  onDrain(conn: Conn): void {
    if (!isOpen(conn) || conn.ws.getBufferedAmount() > this.opts.maxBackpressureBytes / 2) return;
    const waiters = conn.drainWaiters;
    conn.drainWaiters = undefined;
    if (waiters) for (const wake of waiters) wake();
  }

  kick(conn: Conn, code: CloseCode): void {
    if (!isOpen(conn)) return;
    if (conn.acks) this.flushAcks(conn); // answers already given go out before the close
    if (code === CloseCode.SLOW_CONSUMER) this.opts.observer.slowConsumerKicked();
    if (tracing) trace('server', 'kick', { key: conn.key, conn: conn.id, code, phase: conn.phase, buffered: conn.ws.getBufferedAmount() });
    conn.ws.end(code, CloseReason[code]); // runs the close handler synchronously
  }

  /** Whether any connection here cares about the room (saves encoding events nobody gets). */
  hasInterest(tenantId: string, roomId: string): boolean {
    const topic = roomTopic(tenantId, roomId);
    return this.live.has(topic) || this.pending.has(topic);
  }

  /** How many connections here have the room (live or catching up), without listing them. */
  audience(tenantId: string, roomId: string): number {
    const topic = roomTopic(tenantId, roomId);
    return (this.live.get(topic)?.size ?? 0) + (this.pending.get(topic)?.size ?? 0);
  }

  localConns(tenantId: string, userId: string): Conn[] {
    return [...(this.users.get(tenantId)?.get(userId) ?? [])];
  }

  /** Connections of this node that have the room in any state. */
  roomConns(tenantId: string, roomId: string): Conn[] {
    const topic = roomTopic(tenantId, roomId);
    return [...(this.live.get(topic) ?? []), ...(this.pending.get(topic) ?? [])];
  }

  /** A live event of a room: held for pending connections, published (in seq order) for live ones. */
  route(tenantId: string, roomId: string, bytes: Buffer, seq?: number): void {
    const topic = roomTopic(tenantId, roomId);
    const waiting = this.pending.get(topic);
    if (waiting) for (const conn of [...waiting]) this.hold(conn, roomId, { seq, bytes });
    const sequencer = this.sequencers.get(topic);
    if (sequencer && seq !== undefined) sequencer.offer(seq, bytes);
    else if (sequencer) this.publish(topic, bytes);
    if (waiting) this.recheck(topic, roomId);
  }

  /** A frame for every connection of one user (events about the user themselves). */
  toUser(tenantId: string, userId: string, bytes: Buffer): void {
    const conns = this.users.get(tenantId)?.get(userId);
    if (conns) for (const conn of [...conns]) this.send(conn, bytes); // a kick (slow consumer) changes the list
  }

  addUser(conn: Conn): void {
    let users = this.users.get(conn.tenant!.id);
    if (!users) this.users.set(conn.tenant!.id, (users = new Map()));
    const conns = users.get(conn.user!.id);
    if (!conns) users.set(conn.user!.id, [conn]);
    else if (!conns.includes(conn)) conns.push(conn);
    conn.ws.subscribe(ANCHOR_TOPIC);
  }

  /** The connection has the room now, not yet live: its frames are held until the handoff. */
  addPending(conn: Conn, roomId: string): void {
    setOf(this.pending, roomTopic(conn.tenant!.id, roomId)).add(conn);
  }

  /** Back to pending (a re-sync): unsubscribed, frames held again. */
  toPending(conn: Conn, roomId: string): void {
    const topic = roomTopic(conn.tenant!.id, roomId);
    if (this.live.get(topic)?.has(conn)) {
      conn.ws.unsubscribe(topic);
      this.leaveLive(topic, conn);
    }
    setOf(this.pending, topic).add(conn);
  }

  /** The connection no longer has the room (left, deleted) or is closing. */
  dropRoom(conn: Conn, roomId: string): void {
    this.leaveTopic(conn, roomId);
    conn.rooms.delete(roomId);
  }

  /** The connection keeps the room but gets none of its frames (its user may no longer read); a replay under way stops. */
  leaveTopic(conn: Conn, roomId: string): void {
    const topic = roomTopic(conn.tenant!.id, roomId);
    const sync = conn.rooms.get(roomId);
    if (sync) {
      clearConnTimer(conn, sync.handoffTimer);
      Object.assign(sync, { state: 'waiting', held: NOTHING_HELD, generation: sync.generation + 1 });
    }
    removeFrom(this.pending, topic, conn);
    if (this.live.get(topic)?.has(conn)) {
      if (isOpen(conn)) conn.ws.unsubscribe(topic);
      this.leaveLive(topic, conn);
    }
  }

  /** Forget a closed connection everywhere (uWS has already unsubscribed it). */
  forget(conn: Conn): void {
    if (conn.acks) this.dropAcks(conn, conn.acks);
    if (!conn.tenant || !conn.user) return;
    for (const roomId of [...conn.rooms.keys()]) this.dropRoom(conn, roomId);
    const users = this.users.get(conn.tenant.id);
    const conns = users?.get(conn.user.id);
    const at = conns?.indexOf(conn) ?? -1;
    if (at < 0) return;
    if (conns!.length > 1) conns!.splice(at, 1);
    else if (users!.delete(conn.user.id) && users!.size === 0) this.users.delete(conn.tenant.id);
  }

  /** The replay of a room reached `sync.upTo`: join the topic once the bus has caught up too. */
  beginHandoff(conn: Conn, roomId: string, sync: RoomSync): void {
    sync.state = 'handoff';
    if (this.tryHandoff(conn, roomId, false)) return;
    sync.handoffTimer = connTimer(conn, this.opts.handoffTimeoutMs, () => this.forceHandoff(conn, roomId, sync));
  }

  /**
   * The bus has not caught up with the replay in time. What the replay saw is stored: publish it
   * from the database (in order, to the members live here; the advance hands this connection off),
   * then hand off anyway, skipping only what even that did not find (published late if it turns
   * up, which this connection would then get twice). A seq a send of this node committed and is
   * about to announce (bus/unannounced.ts) is neither loaded nor skipped: the handoff waits for it,
   * a gap wait at a time, within the sequencer's bound on such waits.
   */
  private forceHandoff(conn: Conn, roomId: string, sync: RoomSync): void {
    if (conn.rooms.get(roomId) !== sync || sync.state !== 'handoff') return;
    const sequencer = this.sequencers.get(roomTopic(conn.tenant!.id, roomId));
    if (!sequencer || sequencer.last >= sync.upTo) return void this.tryHandoff(conn, roomId, true);
    if (sequencer.awaitsAnnounce(sync.upTo)) {
      sync.handoffTimer = connTimer(conn, this.opts.gapMs, () => this.forceHandoff(conn, roomId, sync));
      return;
    }
    void sequencer.fillTo(sync.upTo).then(() => {
      if (conn.rooms.get(roomId) === sync && sync.state === 'handoff' && isOpen(conn)) this.tryHandoff(conn, roomId, true);
    });
  }

  private tryHandoff(conn: Conn, roomId: string, force: boolean): boolean {
    const sync = conn.rooms.get(roomId)!;
    const topic = roomTopic(conn.tenant!.id, roomId);
    let sequencer = this.sequencers.get(topic);
    const fresh = !sequencer;
    sequencer ??= this.createSequencer(topic, conn.tenant!.id, roomId, sync.upTo);
    if (!force && (sequencer.last < sync.upTo || !heldCovers(sync, sync.upTo, sequencer.last))) return false;
    if (sequencer.last < sync.upTo) {
      sequencer.skipTo(sync.upTo);
      // skipTo advanced the room (onAdvance → recheck), which hands off every connection waiting
      // in it, this one too: done then (going on would send its held frames and sync.complete twice).
      if (sync.state !== 'handoff') return true;
    }
    this.flushHeld(conn, sync, sequencer.last);
    conn.ws.subscribe(topic);
    removeFrom(this.pending, topic, conn);
    setOf(this.live, topic).add(conn);
    clearConnTimer(conn, sync.handoffTimer);
    sync.state = 'live';
    const upTo = Math.max(sync.upTo, sequencer.last);
    const later = fresh ? sync.held.filter((h) => h.seq !== undefined && h.seq > upTo) : [];
    sync.held = NOTHING_HELD;
    this.send(conn, encode({ type: 'sync.complete', room_id: roomId, seq: upTo, replayed: sync.replayed, truncated: sync.truncated, ...(sync.ref ? { ref: sync.ref } : {}) }));
    for (const h of later) sequencer.offer(h.seq!, h.bytes); // a new sequencer publishes these to the topic
    return true;
  }

  /** Held frames the topic will not deliver again: messages up to `last` by seq, other events in order. */
  private flushHeld(conn: Conn, sync: RoomSync, last: number): void {
    const messages = sync.held.filter((h) => h.seq !== undefined && h.seq > sync.upTo && h.seq <= last);
    const sent = new Set<number>();
    for (const h of messages.sort((a, b) => a.seq! - b.seq!)) {
      if (sent.has(h.seq!)) continue;
      sent.add(h.seq!);
      this.send(conn, h.bytes);
    }
    for (const h of sync.held) if (h.seq === undefined) this.send(conn, h.bytes);
  }

  private hold(conn: Conn, roomId: string, held: Held): void {
    const sync = conn.rooms.get(roomId);
    if (!sync || sync.state === 'live') return;
    if (sync.held === NOTHING_HELD) sync.held = [];
    sync.held.push(held);
    if (sync.held.length > this.opts.maxHeld) this.kick(conn, CloseCode.SLOW_CONSUMER);
  }

  private recheck(topic: string, roomId: string): void {
    for (const conn of [...(this.pending.get(topic) ?? [])]) {
      if (conn.rooms.get(roomId)?.state === 'handoff') this.tryHandoff(conn, roomId, false);
    }
  }

  /** After a gap in the bus: every room followed here publishes what was stored meanwhile. */
  catchUp(): void {
    for (const sequencer of this.sequencers.values()) void sequencer.catchUp();
  }

  private createSequencer(topic: string, tenantId: string, roomId: string, last: number): Sequencer<RoomTag> {
    const sequencer = new Sequencer(last, this.roomHooks, this.opts.gapMs, this.opts.unannouncedMaxWaitMs, { topic, tenantId, roomId });
    this.sequencers.set(topic, sequencer);
    return sequencer;
  }

  private async load(topic: string, roomId: string, from: number, to: number): Promise<Found[]> {
    const member = this.live.get(topic)?.values().next().value;
    if (!member) return [];
    const limit = Math.min(200, to - from + 1);
    const messages = await this.opts.loadMessages(member, roomId, from - 1, limit);
    return messages.filter((m) => m.seq <= to).map((m) => ({ seq: m.seq, bytes: encode({ type: 'message.created', room_id: roomId, message: m }) }));
  }

  private leaveLive(topic: string, conn: Conn): void {
    if (conn.acks) this.flushAcks(conn); // it carries no more of the topic's frames
    if (!removeFrom(this.live, topic, conn)) return;
    if (!this.live.has(topic)) {
      this.sequencers.get(topic)?.dispose();
      this.sequencers.delete(topic);
    }
  }

  private publish(topic: string, bytes: Buffer): void {
    const carrier = this.carrierOf(topic);
    if (carrier) {
      carrier.acks!.frames.push(bytes);
      carrier.ws.publish(topic, bytes, false); // to every subscriber but the carrier
    } else this.app.publish(topic, bytes, false);
    this.opts.observer.delivered(this.live.get(topic)?.size ?? 0);
    this.dirty.add(topic);
    this.publishedSinceCheck += bytes.length;
    // Sends that complete in microtasks (an embedded database) may never yield to setImmediate:
    // check by volume too, so no buffer can outgrow uWS's hard cap between two checks.
    if (this.publishedSinceCheck >= this.opts.checkEveryBytes) this.checkBackpressure();
    else if (!this.checkScheduled) {
      // Below that volume no buffer can reach the hard cap, so the check that finds a reader past
      // the limit waits a little (CHECK_EVERY_MS) instead of running after every loop iteration:
      // in a room of 1,000 each check asks every member's buffered amount, and at saturation that
      // was once per send batch (7% of the node's JavaScript at 1 x 1000, load/README § "Issue 12,
      // eighth round").
      this.checkScheduled = true;
      setTimeout(() => this.checkBackpressure(), CHECK_EVERY_MS).unref();
    }
  }

  /** Every live subscriber of a room that got frames since the last check, over the limit → 4008. */
  private checkBackpressure(): void {
    this.checkScheduled = false;
    this.publishedSinceCheck = 0;
    const slow: Conn[] = [];
    for (const topic of this.dirty) {
      for (const conn of this.live.get(topic) ?? []) {
        if (isOpen(conn) && conn.ws.getBufferedAmount() > this.opts.maxBackpressureBytes) slow.push(conn);
      }
    }
    this.dirty.clear();
    // Not from inside a publish: closing changes the sets being published to.
    if (slow.length) queueMicrotask(() => slow.forEach((conn) => this.kick(conn, CloseCode.SLOW_CONSUMER)));
  }
}

function setOf<K, V>(map: Map<K, Set<V>>, key: K): Set<V> {
  let set = map.get(key);
  if (!set) map.set(key, (set = new Set()));
  return set;
}

function removeFrom<K, V>(map: Map<K, Set<V>>, key: K, value: V): boolean {
  const set = map.get(key);
  if (!set?.delete(value)) return false;
  if (set.size === 0) map.delete(key);
  return true;
}

/** The connection's held frames have every seq after `from` up to `to` (a module-level function: see load/bench/keep-names.ts). */
function heldCovers(sync: RoomSync, from: number, to: number): boolean {
  const seen = new Set(sync.held.map((h) => h.seq));
  for (let s = from + 1; s <= to; s++) if (!seen.has(s)) return false;
  return true;
}

/**
 * Fan-out benchmark engine: connects a room layout to one server, then measures
 *  - connect (+auth) time and server memory per connection,
 *  - an offered phase: a fixed number of deliveries per second (open model), measuring loss,
 *    order and send→receive latency,
 *  - a saturated phase: each of a room's `senders` keeps `window` messages in flight (closed
 *    loop), measuring deliveries per second and server CPU per delivery.
 * Messages carry a marker `~B<sender>:<n>;<sent-at ms>~` (n counts per sender from 1); every
 * member counts deliveries, "probe" members also parse it (latency, gaps, order per sender).
 * One process, one clock: the harness sends and receives. Every phase is bounded in time.
 */
import { procStat, threadSched } from '../lib/processes.ts';
import { summarize } from '../lib/http.ts';
import { type WsConn, connectMany, connectWs } from './wsclient.ts';

export interface FanoutTarget {
  name: string;
  pid: number;
  port: number;
  /** false: every frame is a delivery (raw servers); true: only frames carrying the marker */
  markerOnly: boolean;
  /**
   * false: the server does not send a message back to its sender (Pusher client events): a
   * message makes size − 1 deliveries, and the first non-sender member of the room acknowledges
   * for every sender (its copy is what ends the sender's round trip). Default true.
   */
  echo?: boolean;
  /** with markerOnly: a delivery frame also holds this within its first 64 bytes (its type) */
  deliveryTag?: string;
  /** frames holding this within their first 64 bytes are errors (counted, first one kept) */
  errorTag?: string;
  member(room: number, index: number): { path: string; headers?: Record<string, string> };
  /** the frame a sender sends to post `text` into a room; `key` is unique per message */
  sendFrame(room: number, text: string, key: string): string;
  /** connections are usable only after a frame for which this returns true (chatapi: synced) */
  isReady?(frame: string, send: (text: string) => void, room: number): boolean;
}

interface ConnState {
  room: number;
  /** sender index in its room, -1 for members that only receive */
  sender: number;
  probe: boolean;
  /** its copy of a sender's message ends that sender's round trip (the sender itself, with echo) */
  acks: boolean;
  deliveries: number;
  /** probes: last n seen per sender of the room */
  lastN: Int32Array | null;
  gaps: number;
  ready: boolean;
  failed?: Error;
  onReady?: (err?: Error) => void;
}

/**
 * Whether `tag` starts within the first 64 bytes of the frame buf[start, end). A bounded scan in
 * JavaScript: Buffer#indexOf is a call into C++ that cost 130 ns per frame against 58 here, on the
 * harness's hot path (every delivery to a subject whose frames are told apart by type), where the
 * raw servers' deliveries cost nothing: at 1 × 1000 the client is the bottleneck, so that
 * difference was charged to those subjects alone.
 */
function within64(buf: Buffer, start: number, end: number, tag: Buffer): boolean {
  const last = Math.min(start + 64, end - tag.length);
  const first = tag[0];
  outer: for (let p = start; p <= last; p++) {
    if (buf[p] !== first) continue;
    for (let k = 1; k < tag.length; k++) if (buf[p + k] !== tag[k]) continue outer;
    return true;
  }
  return false;
}

const MARK = Buffer.from('~B');
const SEMI = 0x3b;
const COLON = 0x3a;

export class FanoutRun {
  conns: WsConn[] = [];
  private latencies: number[] = [];
  /** per (room, sender): messages sent and not yet echoed back to their sender */
  private outstanding: Int32Array;
  private nextN: Int32Array;
  private saturated = false;
  private window = 0;
  private deliveries = 0;

  /** Deliveries received so far, every round included. */
  get delivered(): number {
    return this.deliveries;
  }
  unexpectedCloses = 0;
  errorFrames = 0;
  firstError = '';

  private readonly tag: Buffer | null;
  private readonly errorTag: Buffer | null;
  private readonly echo: boolean;
  /** deliveries one message makes */
  readonly perMessage: number;

  constructor(readonly target: FanoutTarget, readonly rooms: number, readonly size: number, readonly senders = 1) {
    this.tag = target.deliveryTag ? Buffer.from(target.deliveryTag) : null;
    this.errorTag = target.errorTag ? Buffer.from(target.errorTag) : null;
    this.echo = target.echo ?? true;
    this.perMessage = this.echo ? size : size - 1;
    this.outstanding = new Int32Array(rooms * senders);
    this.nextN = new Int32Array(rooms * senders);
  }

  /** Connects rooms × size members; returns wall time and server RSS growth per connection. */
  async connect(concurrency = 100): Promise<{ connectMs: number; bytesPerConn: number; count: number; cpuUsPerConn: number }> {
    const { rssBytes: before, cpuMs: cpuBefore } = procStat(this.target.pid);
    const count = this.rooms * this.size;
    const probeEvery = Math.max(1, Math.floor(this.size / 100));
    const started = performance.now();
    this.conns = await connectMany(count, concurrency, async (i) => {
      const room = Math.floor(i / this.size);
      const index = i % this.size;
      const st = this.newState(room, index, probeEvery);
      // one source address per 1,000 connections: Linux picks a connect()'s ephemeral port by a
      // scan that grows with the ports in use towards one address, superlinear past ~10,000
      const localAddress = `127.0.${1 + Math.floor(i / 1000)}.1`;
      const conn = await connectWs({ port: this.target.port, ...this.target.member(room, index), tag: st, localAddress }, this);
      if (st.failed) throw st.failed;
      if (this.target.isReady && !st.ready) {
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`${this.target.name}: not ready after 10 s`)), 10_000);
          st.onReady = (err) => { clearTimeout(timer); if (err) reject(err); else resolve(); };
        });
      }
      return conn;
    });
    const connectMs = performance.now() - started;
    const cpuUsPerConn = ((procStat(this.target.pid).cpuMs - cpuBefore) * 1000) / count;
    await new Promise((r) => setTimeout(r, 500)); // let the server settle before reading RSS
    const after = procStat(this.target.pid).rssBytes;
    return { connectMs, bytesPerConn: (after - before) / count, count, cpuUsPerConn };
  }

  private newState(room: number, index: number, probeEvery: number): ConnState {
    const probe = index >= this.senders && index % probeEvery === 0;
    const sender = index < this.senders ? index : -1;
    return {
      room, sender, probe, deliveries: 0, acks: this.echo ? sender >= 0 : index === this.senders,
      lastN: probe ? new Int32Array(this.senders) : null, gaps: 0, ready: !this.target.isReady,
    };
  }

  // WsHandlers
  onMessage(conn: WsConn, buf: Buffer, start: number, end: number): void {
    const st = conn.tag as ConnState;
    if (!st.ready) {
      try {
        if (this.target.isReady?.(buf.toString('utf8', start, end), (t) => conn.sendText(t), st.room) ?? true) {
          st.ready = true;
          st.onReady?.();
        }
      } catch (err) {
        st.failed = err as Error;
        st.onReady?.(st.failed);
      }
      return;
    }
    let at = start;
    if (this.target.markerOnly) {
      // A delivery is told by its type near the frame's start, not by a scan for the marker: a member
      // that only counts reads no further, as with the raw servers (the harness must spend the same
      // per delivery on every subject: at 1 × 1000 it is the bottleneck).
      if (this.tag) {
        if (!within64(buf, start, end, this.tag)) return this.other(buf, start, end);
        if (!st.acks && !st.probe) {
          st.deliveries++; this.deliveries++;
          return;
        }
      }
      at = buf.indexOf(MARK, start);
      if (at < 0 || at >= end) return this.other(buf, start, end);
    } else if (!st.acks && !st.probe) {
      st.deliveries++; this.deliveries++;
      return;
    } else {
      at = buf.indexOf(MARK, start);
      if (at < 0 || at >= end) return;
    }
    st.deliveries++; this.deliveries++;
    if (!st.acks && !st.probe) return;
    let s = 0;
    let i = at + 2;
    for (; i < end && buf[i] !== COLON; i++) s = s * 10 + (buf[i] - 48);
    let n = 0;
    for (i++; i < end && buf[i] !== SEMI; i++) n = n * 10 + (buf[i] - 48);
    if (st.probe && st.lastN) {
      const sentAt = parseFloat(buf.toString('latin1', i + 1, Math.min(end, i + 24)));
      this.latencies.push(performance.now() - sentAt);
      if (n !== st.lastN[s] + 1) st.gaps++;
      st.lastN[s] = n;
    }
    if (st.acks && (!this.echo || st.sender === s)) {
      const slot = st.room * this.senders + s;
      this.outstanding[slot]--;
      if (this.saturated) this.fillWindow(slot);
    }
  }

  /** A frame that is not a delivery: count errors, keep the first for the report. */
  private other(buf: Buffer, start: number, end: number): void {
    if (!this.errorTag) return;
    if (!within64(buf, start, end, this.errorTag)) return;
    this.errorFrames++;
    if (!this.firstError) this.firstError = buf.toString('utf8', start, Math.min(end, start + 300));
  }

  onClose(conn: WsConn): void {
    if (!this.closing) this.unexpectedCloses++;
    void conn;
  }

  private closing = false;

  /** slot = room × senders + sender */
  private send(slot: number): void {
    const room = Math.floor(slot / this.senders);
    const s = slot % this.senders;
    const n = ++this.nextN[slot];
    this.outstanding[slot]++;
    const text = `~B${s}:${n};${performance.now().toFixed(3)}~`;
    this.conns[room * this.size + s].sendText(this.target.sendFrame(room, text, `${s}-${n}`));
  }

  private fillWindow(slot: number): void {
    while (this.outstanding[slot] < this.window) this.send(slot);
  }

  private snapshot() {
    return { deliveries: this.deliveries, cpuMs: procStat(this.target.pid).cpuMs, main: threadSched(this.target.pid), client: process.cpuUsage(), at: performance.now() };
  }

  private measure(a: ReturnType<FanoutRun['snapshot']>, b: ReturnType<FanoutRun['snapshot']>) {
    const seconds = (b.at - a.at) / 1000;
    const deliveries = b.deliveries - a.deliveries;
    const clientCpu = process.cpuUsage(a.client);
    return {
      deliveries,
      deliveriesPerSec: deliveries / seconds,
      cpuUsPerDelivery: deliveries ? ((b.cpuMs - a.cpuMs) * 1000) / deliveries : NaN,
      serverCpuUtil: (b.cpuMs - a.cpuMs) / (b.at - a.at),
      /** The server's main thread: share of the wall time on a core, and runnable but waiting for one. */
      mainThread: { run: (b.main.runMs - a.main.runMs) / (b.at - a.at), wait: (b.main.waitMs - a.main.waitMs) / (b.at - a.at) },
      clientCpuUtil: (clientCpu.user + clientCpu.system) / 1000 / (b.at - a.at),
    };
  }

  /** Closed loop: every sender keeps `window` in flight; warm up, then measure. */
  async saturate(window: number, warmMs: number, measureMs: number) {
    this.window = window;
    this.saturated = true;
    for (let slot = 0; slot < this.outstanding.length; slot++) this.fillWindow(slot);
    await sleep(warmMs);
    this.latencies = [];
    const a = this.snapshot();
    await sleep(measureMs);
    const b = this.snapshot();
    this.saturated = false;
    const lat = summarize(this.latencies);
    await this.drain();
    return { ...this.measure(a, b), p50: lat.p50, p99: lat.p99 };
  }

  /** Open model: `deliveriesPerSec` offered (sends spread round-robin over rooms and senders). */
  async offer(deliveriesPerSec: number, durationMs: number) {
    const sendsPerSec = deliveriesPerSec / this.perMessage;
    const total = Math.floor((sendsPerSec * durationMs) / 1000);
    this.latencies = [];
    for (const c of this.conns) (c.tag as ConnState).gaps = 0;
    const a = this.snapshot();
    const t0 = performance.now();
    let k = 0;
    let late = 0;
    await new Promise<void>((resolve) => {
      const tick = () => {
        const now = performance.now();
        while (k < total && t0 + (k * 1000) / sendsPerSec <= now) {
          if (now - (t0 + (k * 1000) / sendsPerSec) > 50) late++;
          this.send(k % this.outstanding.length);
          k++;
        }
        if (k >= total) return resolve();
        setTimeout(tick, Math.max(0, t0 + (k * 1000) / sendsPerSec - performance.now()));
      };
      tick();
    });
    const expected = total * this.perMessage;
    // every sender has its acknowledgement; the rest of a big room may still be receiving
    const drained = (await this.drain()) && (await this.settle(a.deliveries + expected));
    const b = this.snapshot();
    const gaps = this.conns.reduce((s, c) => s + (c.tag as ConnState).gaps, 0);
    const lat = summarize(this.latencies);
    return {
      ...this.measure(a, b),
      offeredPerSec: deliveriesPerSec,
      heldOffered: late / Math.max(1, total) <= 0.02,
      expected,
      lost: expected - (b.deliveries - a.deliveries),
      gaps,
      drained,
      p50: lat.p50,
      p99: lat.p99,
    };
  }

  /**
   * Waits until every sent message has come back to its sender. Bounded: gives up after 3 s
   * without a single delivery (then what is missing is lost) or 90 s in all (a server far
   * behind an offered rate still gets to finish, so slow is not mistaken for lost).
   */
  private async drain(maxMs = 90_000, stallMs = 3000): Promise<boolean> {
    const until = performance.now() + maxMs;
    let seen = this.deliveries;
    let progressAt = performance.now();
    while (performance.now() < until && performance.now() - progressAt < stallMs) {
      if (this.outstanding.every((o) => o <= 0)) { await sleep(200); return true; }
      await sleep(20);
      if (this.deliveries !== seen) { seen = this.deliveries; progressAt = performance.now(); }
    }
    return false;
  }

  /** Server CPU, % of one core, while every connection is open and nothing is sent. */
  async idleCpu(ms: number): Promise<number> {
    const a = this.snapshot();
    await sleep(ms);
    const b = this.snapshot();
    return ((b.cpuMs - a.cpuMs) / (b.at - a.at)) * 100;
  }

  /** Waits until `total` deliveries have been counted, giving up after 3 s without progress. */
  private async settle(total: number, stallMs = 3000): Promise<boolean> {
    let seen = this.deliveries;
    let progressAt = performance.now();
    while (this.deliveries < total) {
      if (performance.now() - progressAt > stallMs) return false;
      await sleep(20);
      if (this.deliveries !== seen) { seen = this.deliveries; progressAt = performance.now(); }
    }
    return true;
  }

  async close(): Promise<void> {
    this.closing = true;
    for (const c of this.conns) c.socket.destroy();
    this.conns = [];
    await sleep(200);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Timers of connections (auth deadline, resume wait, token expiry, replay handoff, paced-send
 * drain), all in one node-wide deadline heap armed with a single Node timer for the earliest one,
 * instead of a Timeout object, its closure and a Set entry per connection. Each connection links its
 * own timers (usually none or one: the token expiry), so closing it removes them at once and a
 * closed connection is never kept alive until a long deadline. A timer does nothing once its
 * connection has closed.
 */
import type { Conn } from './conn.ts';

/** One pending timer: an entry of the heap and of its connection's list. */
export interface ConnTimer {
  at: number;
  conn: Conn;
  /** Called with the connection, so one function can serve every connection (no closure each). */
  fn: (conn: Conn) => void;
  /** Position in the heap; -1 once fired or cleared. */
  index: number;
  next: ConnTimer | undefined;
}

const heap: ConnTimer[] = [];
let wake: NodeJS.Timeout | undefined;
let armedFor = Infinity;
/** setTimeout's longest delay (about 24.8 days); a later deadline wakes early and re-arms. */
const MAX_DELAY = 2 ** 31 - 1;

/** Runs `fn` in `ms` unless the connection closes (or the timer is cleared) first. */
export function connTimer(conn: Conn, ms: number, fn: (conn: Conn) => void): ConnTimer {
  return connTimerAt(conn, Date.now() + ms, fn);
}

/** Runs `fn` at `at` (epoch ms) unless the connection closes (or the timer is cleared) first. */
export function connTimerAt(conn: Conn, at: number, fn: (conn: Conn) => void): ConnTimer {
  const timer: ConnTimer = { at, conn, fn, index: heap.length, next: conn.timers };
  conn.timers = timer;
  heap.push(timer);
  up(timer.index);
  arm();
  return timer;
}

export function clearConnTimer(conn: Conn, timer: ConnTimer | undefined): void {
  if (!timer || timer.index < 0) return;
  removeAt(timer.index);
  unlink(conn, timer);
  if (!heap.length) disarm();
}

/** Every timer of the connection (it closed, or its auth phase ended). */
export function clearConnTimers(conn: Conn): void {
  for (let t = conn.timers; t; t = t.next) if (t.index >= 0) removeAt(t.index);
  conn.timers = undefined;
  if (!heap.length) disarm();
}

/** Timers pending across every connection of the process (tests, metrics). */
export const pendingConnTimers = (): number => heap.length;

function fire(): void {
  wake = undefined;
  armedFor = Infinity;
  try {
    const now = Date.now();
    while (heap.length && heap[0]!.at <= now) {
      const timer = heap[0]!;
      removeAt(0);
      unlink(timer.conn, timer);
      if (timer.conn.phase !== 'closed') timer.fn(timer.conn);
    }
  } finally {
    arm();
  }
}

function arm(): void {
  if (!heap.length) return disarm();
  const at = heap[0]!.at;
  if (at >= armedFor) return; // the armed wake comes first; it re-arms for whatever is due next
  if (wake) clearTimeout(wake);
  armedFor = at;
  // a timer may fire a millisecond before Date.now() reaches `at`; then it simply re-arms
  wake = setTimeout(fire, Math.min(MAX_DELAY, Math.max(1, at - Date.now())));
  wake.unref(); // an open connection keeps the process alive, not its timers
}

function disarm(): void {
  if (wake) clearTimeout(wake);
  wake = undefined;
  armedFor = Infinity;
}

function unlink(conn: Conn, timer: ConnTimer): void {
  if (conn.timers === timer) {
    conn.timers = timer.next;
    return;
  }
  for (let t = conn.timers; t; t = t.next) {
    if (t.next === timer) {
      t.next = timer.next;
      return;
    }
  }
}

function removeAt(i: number): void {
  const removed = heap[i]!;
  removed.index = -1;
  const last = heap.pop()!;
  if (i === heap.length) return;
  heap[i] = last;
  last.index = i;
  down(i);
  up(last.index);
}

function up(i: number): void {
  const t = heap[i]!;
  while (i > 0) {
    const p = (i - 1) >> 1;
    const parent = heap[p]!;
    if (parent.at <= t.at) break;
    heap[i] = parent;
    parent.index = i;
    i = p;
  }
  heap[i] = t;
  t.index = i;
}

function down(i: number): void {
  const t = heap[i]!;
  const n = heap.length;
  for (;;) {
    let c = 2 * i + 1;
    if (c >= n) break;
    if (c + 1 < n && heap[c + 1]!.at < heap[c]!.at) c += 1;
    const child = heap[c]!;
    if (child.at >= t.at) break;
    heap[i] = child;
    child.index = i;
    i = c;
  }
  heap[i] = t;
  t.index = i;
}

/**
 * Opt-in connection trace for diagnosing dropped sockets: with CHATAPI_WS_TRACE=/some/file every
 * upgrade request, open, resolution of its credentials, `connected`, kick and close of the
 * WebSocket node is appended to that file as one JSON line, whatever the log level. Lines are
 * written synchronously, so the trace survives a crash and interleaves correctly with other
 * writers of the same file (the test client writes its side there too, see
 * test/helpers/ws-client.ts). Off (one branch) otherwise.
 */
import { executionAsyncId } from 'node:async_hooks';
import { createHash } from 'node:crypto';
import { appendFileSync } from 'node:fs';

const file = process.env.CHATAPI_WS_TRACE || undefined;

export const tracing = file !== undefined;

/** Appends `{t, pid, side, event, ...fields}` to the trace file when tracing is on. */
export function trace(side: 'server' | 'client', event: string, fields: Record<string, unknown> = {}): void {
  if (!file) return;
  try {
    appendFileSync(file, JSON.stringify({ t: Math.round((performance.timeOrigin + performance.now()) * 1000) / 1000, pid: process.pid, side, event, ...fields }) + '\n');
  } catch {
    // tracing must never break the node
  }
}

/** Sec-WebSocket-Accept for a key: what the client sees, so both sides of a socket share one name. */
export const acceptOf = (key: string) => createHash('sha1').update(key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64');

/** The uWS callback entered last (name, socket, when) and the socket being upgraded right now, for traces. */
export const uwsCallback = { last: '', key: '', at: 0, upgrading: '' };

/** Wraps a uWS handler so traces can tell which callback a later continuation runs after. */
export function traced<A extends unknown[], R>(name: string, keyOf: (...args: A) => string, fn: (...args: A) => R): (...args: A) => R {
  if (!file) return fn;
  return (...args: A) => {
    Object.assign(uwsCallback, { last: name, key: keyOf(...args), at: performance.now() });
    return fn(...args);
  };
}

/** Where a continuation runs: Node's async id (0 = no Node callback, e.g. after a uWS callback) and the last uWS callback. */
export function whereNow(): Record<string, unknown> {
  return { async_id: executionAsyncId(), last_uws: uwsCallback.last, last_uws_key: uwsCallback.key, since_uws_ms: Math.round((performance.now() - uwsCallback.at) * 1000) / 1000 };
}

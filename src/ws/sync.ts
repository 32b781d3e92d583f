/**
 * Replay: bring one room of one connection up to date from a position (the client's `resume`
 * seq, or its delivered cursor), then hand over to live delivery (router.beginHandoff).
 * At most `replayLimit` messages are replayed: when more were missed, the newest are replayed and
 * `sync.complete.truncated` names the older range for the client to fetch over REST.
 */
import type { Domain } from '../domain/index.ts';
import type { Logger } from '../log.ts';
import { CloseCode } from './close-codes.ts';
import { type Conn, type RoomSync, canRead, isOpen } from './conn.ts';
import { encode } from './frames.ts';
import type { WsObserver } from './observer.ts';
import type { Router } from './router.ts';

const PAGE = 200; // the domain's largest page
/** Rooms of one connection replayed at the same time (bounds database load per connection). */
const PARALLEL_ROOMS = 4;

export interface SyncDeps {
  domain: Domain;
  router: Router;
  log: Logger;
  replayLimit: number;
  observer: WsObserver;
}

export type Positions = Map<string, number>;

/** Start syncing every room still waiting, from `positions` or the delivered cursor. */
export function startSync(deps: SyncDeps, conn: Conn, positions: Positions, ref?: string): void {
  conn.syncStarted = true;
  const rooms = [...conn.rooms].filter(([, sync]) => sync.state === 'waiting').map(([roomId]) => roomId);
  void runLimited(rooms, PARALLEL_ROOMS, (roomId) => syncRoom(deps, conn, roomId, positions.get(roomId), ref));
}

/** (Re)sync one room from `from` (default: the delivered cursor). Safe to call on a live room. */
export async function syncRoom(deps: SyncDeps, conn: Conn, roomId: string, from?: number, ref?: string): Promise<void> {
  const sync = conn.rooms.get(roomId);
  if (!sync || !isOpen(conn) || !canRead(conn)) return; // a session that may not read follows no room topic
  if (sync.state !== 'waiting') deps.router.toPending(conn, roomId);
  const generation = ++sync.generation;
  Object.assign(sync, { state: 'replaying', replayed: 0, truncated: null, ref });
  try {
    await replay(deps, conn, roomId, sync, Math.max(0, from ?? sync.delivered), generation);
  } catch (err) {
    if (!current(conn, roomId, sync, generation)) return;
    deps.log.error({ err, conn: conn.id, room: roomId }, 'ws: replay failed');
    deps.router.kick(conn, CloseCode.INTERNAL_ERROR);
    return;
  }
  if (current(conn, roomId, sync, generation)) deps.router.beginHandoff(conn, roomId, sync);
}

/**
 * This sync of the room is still the one to run: the connection is open, still follows the room,
 * and no later sync of it started. (A module-level function, not a closure per sync: a named
 * closure costs a defineProperty under tsx, load/bench/keep-names.ts.)
 */
function current(conn: Conn, roomId: string, sync: RoomSync, generation: number): boolean {
  return isOpen(conn) && conn.rooms.get(roomId) === sync && sync.generation === generation;
}

async function replay(deps: SyncDeps, conn: Conn, roomId: string, sync: RoomSync, from: number, generation: number): Promise<void> {
  const head = sync.head ?? (await newestSeq(deps, conn, roomId));
  if (!current(conn, roomId, sync, generation)) return;
  let after = Math.min(from, head);
  if (head - after > deps.replayLimit) {
    sync.truncated = { from_seq: after + 1, to_seq: head - deps.replayLimit };
    after = head - deps.replayLimit;
  }
  sync.upTo = after;
  sync.head = undefined; // a later re-sync reads it again
  if (after >= head) return;
  for (;;) {
    const page = await deps.domain.messages.list(conn.caller!, roomId, { after_seq: after, limit: PAGE });
    if (!current(conn, roomId, sync, generation)) return;
    for (const message of page.items) {
      await deps.router.sendPaced(conn, encode({ type: 'message.created', room_id: roomId, message }));
      if (!current(conn, roomId, sync, generation)) return;
      after = message.seq;
      sync.upTo = after;
      sync.replayed += 1;
      deps.observer.replayed(1);
    }
    if (!page.has_more || !page.items.length || !current(conn, roomId, sync, generation)) return;
  }
}

async function newestSeq(deps: SyncDeps, conn: Conn, roomId: string): Promise<number> {
  const { items } = await deps.domain.messages.list(conn.caller!, roomId, { limit: 1 });
  return items[0]?.seq ?? 0;
}

async function runLimited<T>(items: T[], parallel: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(parallel, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]!);
  }));
}

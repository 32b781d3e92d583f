/**
 * Presence frames for a room, priced by the room's audience on this node (its connections that
 * have the room). Each arriving user's `online` reaches everyone already there, so connecting n
 * members one by one costs n²/2 deliveries if every change is its own frame. Here:
 *
 *   audience ≤ batchAbove      every change is its own `presence` frame, at once (small rooms, as always)
 *   audience ≤ summaryAbove    changes are coalesced per room over `coalesceMs`: one `presence.batch`
 *                              naming everyone who changed (their latest status)
 *   bigger                     one `presence.summary` per interval with counts only; clients page
 *                              through getRoomPresence when they need names
 *
 * A coalesced room's first change opens its interval and waits for its end, so however many
 * members join meanwhile, each member gets at most one presence frame per room per interval:
 * O(1) frames per join, amortized, once joins arrive faster than one per interval.
 */
import { encode } from './frames.ts';
import type { Router } from './router.ts';

export interface PresenceFanoutOptions {
  coalesceMs: number;
  batchAbove: number;
  summaryAbove: number;
}

interface Window {
  tenantId: string;
  roomId: string;
  /** user → latest status within the interval */
  changes: Map<string, 'online' | 'offline'>;
  timer: NodeJS.Timeout;
}

export class PresenceFanout {
  private readonly windows = new Map<string, Window>();

  constructor(private readonly router: Router, private readonly opts: PresenceFanoutOptions) {}

  change(tenantId: string, roomId: string, userId: string, status: 'online' | 'offline'): void {
    const audience = this.router.audience(tenantId, roomId);
    if (audience === 0) return;
    const key = `${tenantId}\n${roomId}`;
    const open = this.windows.get(key);
    if (!open && audience <= this.opts.batchAbove) {
      this.router.route(tenantId, roomId, encode({ type: 'presence', room_id: roomId, user_id: userId, status }));
      return;
    }
    if (open) {
      open.changes.delete(userId); // re-insert: a user's latest change decides where it sorts
      open.changes.set(userId, status);
      return;
    }
    const timer = setTimeout(() => this.flush(key), this.opts.coalesceMs);
    this.windows.set(key, { tenantId, roomId, changes: new Map([[userId, status]]), timer });
  }

  close(): void {
    for (const w of this.windows.values()) clearTimeout(w.timer);
    this.windows.clear();
  }

  private flush(key: string): void {
    const w = this.windows.get(key)!;
    this.windows.delete(key);
    const audience = this.router.audience(w.tenantId, w.roomId);
    if (audience === 0) return;
    const online: string[] = [];
    const offline: string[] = [];
    for (const [user, status] of w.changes) (status === 'online' ? online : offline).push(user);
    const frame = audience > this.opts.summaryAbove
      ? { type: 'presence.summary' as const, room_id: w.roomId, came_online: online.length, went_offline: offline.length }
      : { type: 'presence.batch' as const, room_id: w.roomId, online, offline };
    this.router.route(w.tenantId, w.roomId, encode(frame));
  }
}

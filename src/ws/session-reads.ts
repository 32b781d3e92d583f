/**
 * The reads a session start makes (the user's rooms with their heads, the unread notification
 * count), batched per turn of the event loop: every session that asks in one turn is answered by
 * one query per tenant (`… WHERE user_id IN (…)`), not one query each. When thousands of clients
 * connect at once, per-query overhead (query building, pool, file checks) was most of a connect's
 * cost. A read asked for is always run after it was asked for (in a later turn), so a session
 * that registers itself and then asks sees everything committed before it registered.
 */
import type { Domain } from '../domain/index.ts';

type RoomCursor = { room_id: string; last_seq: number; delivered_seq: number };

/** Keys per query (well under SQLite's and MySQL's bound-parameter limits). */
const CHUNK = 500;

/** Collects keys per group over one turn, then fetches each group's keys in chunks. */
class TurnBatch<V> {
  private waiting = new Map<string, Map<string, ((v: V) => void)[]>>();
  private failing = new Map<string, ((err: unknown) => void)[]>();
  private scheduled = false;

  constructor(private readonly fetch: (group: string, keys: string[]) => Promise<Map<string, V>>, private readonly missing: V) {}

  load(group: string, key: string): Promise<V> {
    return new Promise<V>((resolve, reject) => {
      let keys = this.waiting.get(group);
      if (!keys) this.waiting.set(group, (keys = new Map()));
      const waiters = keys.get(key);
      if (waiters) waiters.push(resolve);
      else keys.set(key, [resolve]);
      const rejects = this.failing.get(group);
      if (rejects) rejects.push(reject);
      else this.failing.set(group, [reject]);
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    const waiting = this.waiting;
    const failing = this.failing;
    this.waiting = new Map();
    this.failing = new Map();
    this.scheduled = false;
    for (const [group, keys] of waiting) {
      const all = [...keys.keys()];
      const chunks: Promise<void>[] = [];
      for (let i = 0; i < all.length; i += CHUNK) {
        const part = all.slice(i, i + CHUNK);
        chunks.push(this.fetch(group, part).then((found) => {
          for (const key of part) for (const resolve of keys.get(key)!) resolve(found.get(key) ?? this.missing);
        }));
      }
      // A failed chunk fails every waiter of the group (settling an already resolved promise is a no-op).
      Promise.all(chunks).catch((err) => failing.get(group)!.forEach((reject) => reject(err)));
    }
  }
}

export class SessionReads {
  private readonly rooms: TurnBatch<RoomCursor[]>;
  private readonly unread: TurnBatch<number>;

  constructor(domain: Domain) {
    this.rooms = new TurnBatch((tenantId, userIds) => domain.rooms.roomsOfUsers(tenantId, userIds), []);
    this.unread = new TurnBatch((tenantId, userIds) => domain.notifications.unreadCounts(tenantId, userIds), 0);
  }

  /** The user's rooms with their newest seq and the user's delivered cursor. */
  roomsOfUser(tenantId: string, userId: string): Promise<RoomCursor[]> {
    return this.rooms.load(tenantId, userId);
  }

  unreadCount(tenantId: string, userId: string): Promise<number> {
    return this.unread.load(tenantId, userId);
  }
}

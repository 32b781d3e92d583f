/**
 * Who is online in one room, from whichever presence frames the server sends for the room's size
 * (spec/asyncapi.yaml): `presence` (one member, small rooms), `presence.batch` (many members named
 * at once, bigger rooms) and `presence.summary` (counts only, big rooms). Names come from the first
 * two; once a summary arrives the room is too big to name everyone, and `count` follows the counts.
 *
 *   const presence = new RoomPresence(rt, roomId, () => render(presence.online, presence.count));
 */
import type { RealtimeClient } from './realtime.ts';

export class RoomPresence {
  /** Members known by name to be online. */
  readonly online = new Set<string>();
  /** Set once a `presence.summary` came: the room is counted, not named. */
  counted = false;
  private total = 0;

  constructor(rt: RealtimeClient, private readonly roomId: string, private readonly onChange: () => void = () => {}) {
    rt.on('presence', (f) => f.room_id === roomId && this.apply([f.user_id], f.status === 'online'));
    rt.on('presence.batch', (f) => {
      if (f.room_id !== roomId) return;
      this.set(f.online, true);
      this.set(f.offline, false);
      this.onChange();
    });
    rt.on('presence.summary', (f) => {
      if (f.room_id !== roomId) return;
      if (!this.counted) this.total = this.online.size;
      this.counted = true;
      this.total = Math.max(0, this.total + f.came_online - f.went_offline);
      this.onChange();
    });
  }

  /** How many members are online: the named ones, or in a counted room the running count. */
  get count(): number {
    return this.counted ? Math.max(this.total, this.online.size) : this.online.size;
  }

  /** One member's status, e.g. from `GET /v1/rooms/{room_id}/presence` (getRoomPresence). */
  apply(userIds: string[], online: boolean): void {
    this.set(userIds, online);
    this.onChange();
  }

  private set(userIds: string[], online: boolean): void {
    for (const id of userIds) {
      if (online) this.online.add(id);
      else this.online.delete(id);
    }
  }
}

/**
 * Presence on this node: counts each user's connections here and tells the registry
 * (src/bus/presence.ts) only about transitions. The last connection closing starts a grace timer;
 * a reconnect within it (here, or on another node, which the registry sees) announces nothing.
 * Announcements go on the bus, so every node shows them to the user's rooms.
 */
import type { Bus } from '../bus/index.ts';
import type { PresenceRegistry, UserRef } from '../bus/presence.ts';
import type { Domain } from '../domain/index.ts';
import type { Logger } from '../log.ts';

export class LocalPresence {
  /**
   * tenant → user → connections here. Keyed by the ids the sessions already hold: a combined
   * `tenant\nuser` key would be one more string per connected user, for as long as it stays.
   */
  private readonly counts = new Map<string, Map<string, number>>();
  private readonly grace = new Map<string, NodeJS.Timeout>();
  /** Registry calls per user run in order (join/leave must not overtake each other). */
  private readonly chains = new Map<string, Promise<void>>();

  constructor(
    private readonly deps: { registry: PresenceRegistry; bus: Bus; domain: Domain; log: Logger; graceMs: number },
  ) {
    deps.registry.onExpired((users) => users.forEach((u) => this.serial(u, () => this.announce(u, 'offline'))));
    deps.registry.onReaped(() => {
      for (const [tenant_id, users] of this.counts) for (const user_id of users.keys()) this.serial({ tenant_id, user_id }, (u) => this.join(u));
    });
  }

  /** `roomIds`: the user's rooms if the caller has just read them (saves reading them again to announce). */
  connected(user: UserRef, roomIds?: string[]): void {
    let users = this.counts.get(user.tenant_id);
    if (!users) this.counts.set(user.tenant_id, (users = new Map()));
    const count = (users.get(user.user_id) ?? 0) + 1;
    users.set(user.user_id, count);
    if (count > 1) return;
    const key = keyOf(user);
    const pending = this.grace.get(key);
    if (pending) {
      clearTimeout(pending); // back within the grace period: still online, nothing to say
      this.grace.delete(key);
      return;
    }
    this.serial(user, (u) => this.join(u, roomIds));
  }

  disconnected(user: UserRef): void {
    const users = this.counts.get(user.tenant_id);
    const count = (users?.get(user.user_id) ?? 1) - 1;
    if (count > 0) {
      users!.set(user.user_id, count);
      return;
    }
    users?.delete(user.user_id);
    if (users?.size === 0) this.counts.delete(user.tenant_id);
    const key = keyOf(user);
    const timer = setTimeout(() => {
      this.grace.delete(key);
      this.serial(user, (u) => this.leave(u));
    }, this.deps.graceMs);
    this.grace.set(key, timer);
  }

  /** Stop timers; entries in a shared registry are left to expire (users reconnecting elsewhere do not flap). */
  async close(): Promise<void> {
    for (const timer of this.grace.values()) clearTimeout(timer);
    this.grace.clear();
    await Promise.allSettled([...this.chains.values()]);
  }

  private async join(user: UserRef, roomIds?: string[]): Promise<void> {
    if (await this.deps.registry.join(user)) await this.announce(user, 'online', roomIds);
  }

  private async leave(user: UserRef): Promise<void> {
    if (this.counts.get(user.tenant_id)?.has(user.user_id)) return; // reconnected while the call was queued
    if (await this.deps.registry.leave(user)) await this.announce(user, 'offline');
  }

  private async announce(user: UserRef, status: 'online' | 'offline', roomIds?: string[]): Promise<void> {
    const room_ids = roomIds ?? (await this.deps.domain.rooms.roomsOfUser(user.tenant_id, user.user_id)).map((r) => r.room_id);
    this.deps.bus.publish({ type: 'presence', ...user, status, room_ids });
    await this.deps.domain.userStatus.record(user.tenant_id, user.user_id, status); // the user.online/offline webhook
  }

  private serial(user: UserRef, fn: (u: UserRef) => Promise<void>): void {
    const key = keyOf(user);
    const next = (this.chains.get(key) ?? Promise.resolve())
      .then(() => fn(user))
      .catch((err) => this.deps.log.warn({ err, user: user.user_id }, 'ws: presence update failed'));
    this.chains.set(key, next);
    void next.then(() => {
      if (this.chains.get(key) === next) this.chains.delete(key);
    });
  }
}

const keyOf = (u: UserRef) => `${u.tenant_id}\n${u.user_id}`;

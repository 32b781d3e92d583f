/**
 * Remembers resolved credentials for a short time so a busy tenant does not pay two or three
 * database round trips (tenant by key, user by id, token checks) on every request; the send-path
 * profile put them at ~15% of a REST send. Only digests of secrets are used as keys.
 *
 * Freshness: on this node every change to tenants, users or tokens clears the cache at once
 * (see app.ts), and a generation counter stops a lookup that started before the change from
 * storing its stale answer afterwards. Every node also clears it on the bus's revocation
 * signals (credentials.revoked: token, user, key, tenant; user.updated: role, permissions), so
 * no node accepts a revoked credential once the signal arrives; other changes within `ttlMs`.
 */
import { LRUCache } from 'lru-cache';
import { sha256 } from '../sha256.ts';

export class CredentialCache {
  private readonly cache: LRUCache<string, { value: unknown }> | undefined;
  private generation = 0;

  constructor(ttlMs: number, max = 10_000) {
    this.cache = ttlMs > 0 ? new LRUCache({ max, ttl: ttlMs, ttlAutopurge: false }) : undefined;
  }

  static digest(secret: string): string {
    return sha256(secret, 'base64url');
  }

  async get<T>(key: string, load: () => Promise<T>): Promise<T> {
    if (!this.cache) return load();
    const hit = this.cache.get(key);
    if (hit) return hit.value as T;
    const generation = this.generation;
    const value = await load();
    if (generation === this.generation) this.cache.set(key, { value });
    return value;
  }

  /** Something about tenants, users or tokens changed: forget everything. */
  invalidate(): void {
    this.generation++;
    this.cache?.clear();
  }
}

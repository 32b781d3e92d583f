/**
 * Who is online, across nodes. Each node counts its own connections per user (src/ws/presence.ts)
 * and tells the registry only about transitions: the user's first local connection (`join`) and,
 * after the grace period, the end of their last one (`leave`). The registry answers whether that
 * made the user online or offline everywhere.
 *
 * In Redis, a user is a hash `presence:u:<tenant>:<user>` of node id → 1, and each node keeps a
 * heartbeat in the sorted set `presence:nodes`. Only nodes with a fresh heartbeat count, so a node
 * that dies without cleaning up stops counting once its heartbeat is older than `ttlMs`; the first
 * live node to notice reaps its entries and reports the users that thereby went offline.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import type { BusLog } from './types.ts';

export interface UserRef {
  tenant_id: string;
  user_id: string;
}

export interface PresenceRegistry {
  readonly nodeId: string;
  /** The user's first connection on this node opened. True when no other node had them online. */
  join(user: UserRef): Promise<boolean>;
  /** The user's last connection on this node is gone (grace passed). True when no node has them now. */
  leave(user: UserRef): Promise<boolean>;
  /** The given users of a tenant that are online on any live node. */
  online(tenantId: string, userIds: string[]): Promise<Set<string>>;
  /** Users that went offline because their node died (reported once, to one live node). */
  onExpired(fn: (users: UserRef[]) => void): void;
  /** This node was taken for dead (e.g. a long pause) and reaped: it must `join` its users again. */
  onReaped(fn: () => void): void;
  /** Stop heartbeating. Entries are left to expire, so users reconnecting elsewhere do not flap. */
  close(): Promise<void>;
}

export function createMemoryPresence(): PresenceRegistry {
  const here = new Map<string, Set<string>>();
  return {
    nodeId: 'local',
    async join({ tenant_id, user_id }) {
      const users = here.get(tenant_id) ?? new Set<string>();
      here.set(tenant_id, users);
      const fresh = !users.has(user_id);
      users.add(user_id);
      return fresh;
    },
    async leave({ tenant_id, user_id }) {
      return here.get(tenant_id)?.delete(user_id) ?? false;
    },
    async online(tenantId, userIds) {
      const users = here.get(tenantId);
      return new Set(userIds.filter((id) => users?.has(id)));
    },
    onExpired() {},
    onReaped() {},
    async close() {
      here.clear();
    },
  };
}

// KEYS: user hash, nodes zset, this node's user set. ARGV: node id, member, ttl ms, op ('join'|'leave').
// Returns the number of OTHER live nodes holding the user after the change.
const CHANGE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local stale = now - tonumber(ARGV[3])
redis.call('ZADD', KEYS[2], now, ARGV[1])
if ARGV[4] == 'join' then
  redis.call('HSET', KEYS[1], ARGV[1], 1)
  redis.call('SADD', KEYS[3], ARGV[2])
else
  redis.call('HDEL', KEYS[1], ARGV[1])
  redis.call('SREM', KEYS[3], ARGV[2])
end
local others = 0
for _, node in ipairs(redis.call('HKEYS', KEYS[1])) do
  if node ~= ARGV[1] then
    local beat = redis.call('ZSCORE', KEYS[2], node)
    if beat and tonumber(beat) >= stale then others = others + 1 end
  end
end
if others == 0 and ARGV[4] == 'leave' then redis.call('DEL', KEYS[1]) end
return others
`;

// KEYS: nodes zset. ARGV: node id. Heartbeats use Redis's clock, like every staleness check.
const BEAT = `
local known = redis.call('ZSCORE', KEYS[1], ARGV[1])
local t = redis.call('TIME')
redis.call('ZADD', KEYS[1], tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000), ARGV[1])
if known then return 1 end
return 0
`;

// KEYS: nodes zset, dead node's user set. ARGV: dead node id, ttl ms, user key prefix.
// Removes the dead node everywhere; returns the members (tenant\\nuser) nobody live holds any more.
const REAP = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local stale = now - tonumber(ARGV[2])
local offline = {}
for _, member in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  local sep = string.find(member, '\\n', 1, true)
  local key = ARGV[3] .. string.sub(member, 1, sep - 1) .. ':' .. string.sub(member, sep + 1)
  redis.call('HDEL', key, ARGV[1])
  local live = 0
  for _, node in ipairs(redis.call('HKEYS', key)) do
    local beat = redis.call('ZSCORE', KEYS[1], node)
    if beat and tonumber(beat) >= stale then live = live + 1 end
  end
  if live == 0 then
    redis.call('DEL', key)
    table.insert(offline, member)
  end
end
redis.call('DEL', KEYS[2])
redis.call('ZREM', KEYS[1], ARGV[1])
return offline
`;

export interface RedisPresenceOptions {
  url: string;
  prefix: string;
  log: BusLog;
  /** Heartbeat period (default 2000 ms). */
  heartbeatMs?: number;
  /** A node whose heartbeat is older than this is dead (default 5 heartbeats). */
  ttlMs?: number;
}

type Scripted = Redis & {
  presenceChange(userKey: string, nodes: string, nodeUsers: string, node: string, member: string, ttl: number, op: string): Promise<number>;
  presenceBeat(nodes: string, node: string): Promise<number>;
  presenceReap(nodes: string, nodeUsers: string, node: string, ttl: number, userPrefix: string): Promise<string[]>;
};

export async function createRedisPresence(opts: RedisPresenceOptions): Promise<PresenceRegistry> {
  const nodeId = randomUUID();
  const heartbeatMs = opts.heartbeatMs ?? 2000;
  const ttlMs = opts.ttlMs ?? heartbeatMs * 5;
  const keys = {
    nodes: `${opts.prefix}presence:nodes`,
    userPrefix: `${opts.prefix}presence:u:`,
    nodeUsers: (node: string) => `${opts.prefix}presence:n:${node}`,
    reapLock: (node: string) => `${opts.prefix}presence:reap:${node}`,
  };
  const redis = new Redis(opts.url, { maxRetriesPerRequest: 2 }) as Scripted;
  redis.on('error', (err: Error) => opts.log.warn({ err: err.message }, 'presence: redis error'));
  redis.defineCommand('presenceChange', { numberOfKeys: 3, lua: CHANGE });
  redis.defineCommand('presenceBeat', { numberOfKeys: 1, lua: BEAT });
  redis.defineCommand('presenceReap', { numberOfKeys: 2, lua: REAP });
  const expiredHandlers: ((users: UserRef[]) => void)[] = [];
  const reapedHandlers: (() => void)[] = [];
  const member = (u: UserRef) => `${u.tenant_id}\n${u.user_id}`;
  const change = (u: UserRef, op: 'join' | 'leave') =>
    redis.presenceChange(`${keys.userPrefix}${u.tenant_id}:${u.user_id}`, keys.nodes, keys.nodeUsers(nodeId), nodeId, member(u), ttlMs, op);

  async function reapDeadNodes(): Promise<void> {
    const t = await redis.time();
    const now = Number(t[0]) * 1000 + Math.floor(Number(t[1]) / 1000);
    const dead = await redis.zrangebyscore(keys.nodes, '-inf', now - ttlMs);
    for (const node of dead.filter((n) => n !== nodeId)) {
      const claimed = await redis.set(keys.reapLock(node), nodeId, 'PX', Math.max(ttlMs, 10_000), 'NX');
      if (claimed !== 'OK') continue;
      const gone = await redis.presenceReap(keys.nodes, keys.nodeUsers(node), node, ttlMs, keys.userPrefix);
      opts.log.info({ node, users: gone.length }, 'presence: reaped a dead node');
      const users = gone.map((m) => ({ tenant_id: m.slice(0, m.indexOf('\n')), user_id: m.slice(m.indexOf('\n') + 1) }));
      if (users.length) for (const fn of expiredHandlers) fn(users);
    }
  }

  async function beat(): Promise<void> {
    try {
      if ((await redis.presenceBeat(keys.nodes, nodeId)) === 0) {
        opts.log.warn({ node: nodeId }, 'presence: this node had been reaped as dead; rejoining its users');
        for (const fn of reapedHandlers) fn();
      }
      await reapDeadNodes();
    } catch (err) {
      opts.log.warn({ err: (err as Error).message }, 'presence: heartbeat failed');
    }
  }
  await redis.presenceBeat(keys.nodes, nodeId);
  const timer = setInterval(() => void beat(), heartbeatMs);
  timer.unref();

  return {
    nodeId,
    join: async (u) => (await change(u, 'join')) === 0,
    leave: async (u) => (await change(u, 'leave')) === 0,
    async online(tenantId, userIds) {
      if (!userIds.length) return new Set();
      const t = await redis.time();
      const stale = Number(t[0]) * 1000 + Math.floor(Number(t[1]) / 1000) - ttlMs;
      const pipe = redis.pipeline();
      for (const id of userIds) pipe.hkeys(`${keys.userPrefix}${tenantId}:${id}`);
      const nodesOf = (await pipe.exec())!.map(([, v]) => v as string[]);
      const beats = new Map<string, number>();
      for (const node of new Set(nodesOf.flat())) beats.set(node, Number((await redis.zscore(keys.nodes, node)) ?? 0));
      return new Set(userIds.filter((_, i) => nodesOf[i]!.some((n) => (beats.get(n) ?? 0) >= stale)));
    },
    onExpired: (fn) => void expiredHandlers.push(fn),
    onReaped: (fn) => void reapedHandlers.push(fn),
    async close() {
      clearInterval(timer);
      await redis.quit().catch(() => {});
    },
  };
}

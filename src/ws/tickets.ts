/**
 * One-time WebSocket tickets (`POST /v1/realtime/tickets` → `wss://…/v1/ws?ticket=…`): browsers
 * cannot set headers on a WebSocket, and tokens must never travel in a query string, so they
 * trade a token for a random ticket that is valid for seconds and redeemable once.
 *
 * In memory on a single node; in Redis (GETDEL, so redemption is atomic) when scaled out, so any
 * WebSocket node can redeem a ticket that any API node issued. Only a hash of the ticket is stored.
 */
import { createHash, randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import type { UserCaller } from '../domain/index.ts';

export interface TicketGrant {
  tenant_id: string;
  user_id: string;
  via: UserCaller['via'];
  /** The credential the ticket was issued for: the session it opens ends with it. */
  token_id?: string;
  expires_at?: number;
  room_id?: string;
}

export interface TicketStore {
  /** Mints a ticket for the calling user (what createRealtimeTicket returns). */
  issue(caller: UserCaller, cred?: { tokenId?: string; expiresAt?: number }): Promise<{ ticket: string; expires_at: string }>;
  /** The grant, once: a second redeem, or one after expiry, gets null. */
  redeem(ticket: string): Promise<TicketGrant | null>;
  close(): Promise<void>;
}

export interface TicketStoreOptions {
  /** Set when the bus is Redis: tickets then work across nodes. */
  redisUrl?: string;
  /** Key prefix (config.redisPrefix). */
  prefix?: string;
  /** Lifetime (default 30 000 ms). */
  ttlMs?: number;
  now?: () => number;
}

const TICKET_BYTES = 32;
const hash = (ticket: string) => createHash('sha256').update(ticket).digest('base64url');

export async function createTicketStore(opts: TicketStoreOptions = {}): Promise<TicketStore> {
  const ttlMs = opts.ttlMs ?? 30_000;
  const now = opts.now ?? Date.now;
  const backend = opts.redisUrl ? redisBackend(opts.redisUrl, opts.prefix ?? 'chatapi:') : memoryBackend(now);
  return {
    async issue(caller, cred = {}) {
      const ticket = `tk_${randomBytes(TICKET_BYTES).toString('base64url')}`;
      const grant: TicketGrant = {
        tenant_id: caller.tenantId, user_id: caller.user.id, via: caller.via,
        ...(cred.tokenId ? { token_id: cred.tokenId, expires_at: cred.expiresAt } : {}), ...(caller.roomId ? { room_id: caller.roomId } : {}),
      };
      await backend.put(hash(ticket), grant, ttlMs);
      return { ticket, expires_at: new Date(now() + ttlMs).toISOString() };
    },
    async redeem(ticket) {
      if (!/^tk_[A-Za-z0-9_-]{20,100}$/.test(ticket)) return null;
      return backend.take(hash(ticket));
    },
    close: () => backend.close(),
  };
}

interface Backend {
  put(key: string, grant: TicketGrant, ttlMs: number): Promise<void>;
  take(key: string): Promise<TicketGrant | null>;
  close(): Promise<void>;
}

function memoryBackend(now: () => number): Backend {
  const tickets = new Map<string, { grant: TicketGrant; expiresAt: number }>();
  const sweep = () => {
    const t = now();
    for (const [key, entry] of tickets) if (entry.expiresAt <= t) tickets.delete(key);
  };
  const timer = setInterval(sweep, 10_000);
  timer.unref();
  return {
    async put(key, grant, ttlMs) {
      tickets.set(key, { grant, expiresAt: now() + ttlMs });
    },
    async take(key) {
      const entry = tickets.get(key);
      tickets.delete(key);
      return entry && entry.expiresAt > now() ? entry.grant : null;
    },
    async close() {
      clearInterval(timer);
      tickets.clear();
    },
  };
}

function redisBackend(url: string, prefix: string): Backend {
  const redis = new Redis(url, { maxRetriesPerRequest: 2 });
  redis.on('error', () => {}); // surfaced by the failing command
  const keyOf = (key: string) => `${prefix}ticket:${key}`;
  return {
    async put(key, grant, ttlMs) {
      await redis.set(keyOf(key), JSON.stringify(grant), 'PX', ttlMs);
    },
    async take(key) {
      const text = await redis.getdel(keyOf(key));
      return text ? (JSON.parse(text) as TicketGrant) : null;
    },
    async close() {
      await redis.quit().catch(() => {});
    },
  };
}

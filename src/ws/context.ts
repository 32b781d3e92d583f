/** What the parts of the WebSocket node share (built once in node.ts). */
import type { Bus } from '../bus/index.ts';
import type { Config } from '../config.ts';
import type { Domain } from '../domain/index.ts';
import type { Logger } from '../log.ts';
import type { LocalPresence } from './presence.ts';
import type { Conn } from './conn.ts';
import type { PresenceFanout } from './presence-fanout.ts';
import type { Router } from './router.ts';
import type { WsObserver } from './observer.ts';
import type { SendAdmission } from './send-admission.ts';
import type { SessionReads } from './session-reads.ts';
import type { SyncDeps } from './sync.ts';
import type { TicketStore } from './tickets.ts';
import type { Typing } from './typing.ts';

/**
 * The seam for per-tenant rate limiting of frames (src/ratelimit's TenantLimiter fits): one token
 * per frame; a refused frame is answered with RATE_LIMIT_EXCEEDED and `retry_after_ms`.
 */
export interface FrameLimiter {
  consume(tenantId: string, limits: { rate: number; burst: number }): Promise<{ allowed: boolean; retryAfterMs: number }>;
  /** Synchronous, while limiting in process memory (ratelimit/index.ts TenantLimiter.consumeNow). */
  consumeNow?(tenantId: string, limits: { rate: number; burst: number }): { allowed: boolean; retryAfterMs: number };
}

export interface WsContext {
  config: Config;
  domain: Domain;
  bus: Bus;
  log: Logger;
  router: Router;
  observer: WsObserver;
  presence: LocalPresence;
  /** Presence changes → frames, coalesced in bigger rooms (presence-fanout.ts). */
  presenceFanout: PresenceFanout;
  typing: Typing;
  tickets?: TicketStore;
  limiter?: FrameLimiter;
  sync: SyncDeps;
  /** Session-start reads, batched per turn (session-reads.ts). */
  reads: SessionReads;
  /** The node's sends in the durable send path, bounded (send-admission.ts). */
  admission: SendAdmission;
  resumeWaitMs: number;
  /** True once shutdown began: no new connections, no new frames. */
  draining: boolean;
  /** This node's open connections (credential signals look through them). */
  conns?: Set<Conn>;
}

/**
 * The bus between the domain and every delivery node: in-process by default; Redis pub/sub when
 * REDIS_URL is set, so API nodes and WebSocket nodes share events.
 */
import { createMemoryBus } from './memory.ts';
import { createRedisBus } from './redis.ts';
import type { Bus, BusLog } from './types.ts';

export type { Bus, BusEvent, BusLog, PresenceEvent, TypingEvent } from './types.ts';

export interface BusOptions {
  redisUrl?: string;
  prefix: string;
  log: BusLog;
}

export async function createBus(opts: BusOptions): Promise<Bus> {
  if (!opts.redisUrl) return createMemoryBus(opts.log);
  return createRedisBus({ url: opts.redisUrl, prefix: opts.prefix, log: opts.log });
}

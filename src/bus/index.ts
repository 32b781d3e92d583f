/**
 * The bus between the domain and every delivery node. In-process by default; the realtime
 * part adds Redis pub/sub when REDIS_URL is set.
 */
import { createMemoryBus, type Bus, type BusEvent } from './memory.ts';

export type { Bus, BusEvent };

export interface BusOptions {
  redisUrl?: string;
  prefix: string;
  log: { error(obj: object, msg?: string): void; warn(obj: object, msg?: string): void; info(obj: object, msg?: string): void };
}

export async function createBus(opts: BusOptions): Promise<Bus> {
  return createMemoryBus(opts.log);
}

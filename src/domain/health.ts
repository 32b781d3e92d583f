/** Database health for GET /health and /ready: usable only if it accepts a write right now. */
import { driver } from '../store/db.ts';
import { writeProbe } from '../store/health.ts';
import type { Ctx } from './context.ts';
import type { Domain } from './types.ts';

export function healthApi(ctx: Ctx): Domain['health'] {
  return {
    async check() {
      const kind = driver(ctx.db);
      try {
        await writeProbe(ctx.db, ctx.now());
        return { database: { ok: true, writable: true, driver: kind } };
      } catch (err) {
        ctx.log.warn({ err }, 'database health probe failed');
        return { database: { ok: false, writable: false, driver: kind } };
      }
    },
  };
}

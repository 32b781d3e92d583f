/** Database health for GET /health and /ready: usable only if it accepts a write right now. */
import { driver } from '../store/db.ts';
import { withDeadline } from '../store/availability.ts';
import { writeProbe } from '../store/health.ts';
import type { Ctx } from './context.ts';
import type { Domain } from './types.ts';

/** /health answers within this (plus its own work), whatever the database does. */
export const HEALTH_PROBE_DEADLINE_MS = 2000;

export function healthApi(ctx: Ctx): Domain['health'] {
  return {
    async check() {
      const kind = driver(ctx.db);
      try {
        // A blackholed server would otherwise hold the probe (and /health) for minutes.
        await withDeadline(writeProbe(ctx.db, ctx.now()), HEALTH_PROBE_DEADLINE_MS, 'The database health probe');
        return { database: { ok: true, writable: true, driver: kind } };
      } catch (err) {
        ctx.log.warn({ err }, 'database health probe failed');
        return { database: { ok: false, writable: false, driver: kind } };
      }
    },
  };
}

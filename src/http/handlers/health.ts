/**
 * GET /health (liveness: the database accepts writes) and GET /ready (should this node get
 * traffic: database plus whatever the server assembly reports, e.g. the bus). Both answer 503
 * with the report in `data` when something critical is down, so probes and humans see why.
 */
import type { Health } from '../../domain/wire.ts';
import { DomainError } from '../../domain/errors.ts';
import type { HttpDeps, OperationMap, Reply } from '../operation.ts';

type Checks = Health['checks'];

async function databaseCheck(deps: HttpDeps): Promise<Checks[string]> {
  try {
    const { database } = await deps.domain.health.check();
    return { ok: database.ok && database.writable, detail: `${database.driver}, ${database.writable ? 'writable' : 'not writable'}` };
  } catch (err) {
    deps.log.warn({ err }, 'health check: database unusable');
    return { ok: false, detail: 'database unreachable' };
  }
}

function report(deps: HttpDeps, checks: Checks, critical: string[]): Reply {
  const down = Object.keys(checks).filter((k) => !checks[k].ok);
  const criticalDown = down.filter((k) => critical.includes(k));
  const status = criticalDown.length ? 'unavailable' : down.length ? 'degraded' : 'ok';
  const health: Health = {
    status,
    uptime_seconds: Math.round((Date.now() - deps.startedAt) / 100) / 10,
    version: deps.version,
    checks,
  };
  if (!criticalDown.length) return { status: 200, data: health };
  return { status: 503, data: health, error: new DomainError('SERVICE_UNAVAILABLE', `Unavailable: ${criticalDown.join(', ')}`) };
}

export function healthHandlers(deps: HttpDeps): OperationMap {
  return {
    getHealth: async () => report(deps, { database: await databaseCheck(deps) }, ['database']),
    getReady: async () => {
      const checks: Checks = { database: await databaseCheck(deps) };
      const critical = ['database'];
      for (const [name, check] of Object.entries(deps.readiness?.() ?? {})) {
        checks[name] = { ok: check.ok, ...(check.detail ? { detail: check.detail } : {}) };
        if (check.critical) critical.push(name);
      }
      return report(deps, checks, critical);
    },
  };
}

/** The write probe behind GET /health and /ready. */
import type { Db } from './db.ts';

/** Touches the one-row probe table; throws if the database refuses the write. */
export async function writeProbe(db: Db, now: number): Promise<void> {
  const changed = await db('health_probe').where({ id: 1 }).update({ checked_at: now });
  if (changed === 0) await db('health_probe').insert({ id: 1, checked_at: now });
}

/** The audit log: staff actions and admin reads, append-only, always scoped by tenant. */
import type { Db } from './db.ts';

export interface AuditRow {
  pk?: number;
  tenant_id: string;
  actor_id: string;
  action: string;
  room_id: string | null;
  target_user_id: string | null;
  detail: string | null; // JSON text
  created_at: number;
}

export async function insertAudit(db: Db, row: AuditRow): Promise<void> {
  await db('audit_log').insert(row);
}

export interface AuditFilter {
  action?: string;
  actorId?: string;
  roomId?: string;
}

/** Newest first; keyset on pk. */
export async function listAudit(db: Db, tenantId: string, f: AuditFilter, beforePk: number | null, limit: number): Promise<Required<AuditRow>[]> {
  const q = db('audit_log').where({ tenant_id: tenantId }).orderBy('pk', 'desc').limit(limit);
  if (f.action) q.andWhere('action', f.action);
  if (f.actorId) q.andWhere('actor_id', f.actorId);
  if (f.roomId) q.andWhere('room_id', f.roomId);
  if (beforePk !== null) q.andWhere('pk', '<', beforePk);
  const rows = (await q) as Required<AuditRow>[];
  return rows.map((r) => ({ ...r, pk: Number(r.pk), created_at: Number(r.created_at) }));
}

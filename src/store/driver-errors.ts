/** What a driver error means, on either backend (no driver is loaded here: the send writer's worker thread uses it too). */

interface DriverError {
  code?: string;
  errno?: number;
}

/** A UNIQUE or PRIMARY KEY violation, on either backend. */
export function isUniqueViolation(err: unknown): boolean {
  const { code, errno } = (err ?? {}) as DriverError;
  return (
    code === 'SQLITE_CONSTRAINT_UNIQUE' ||
    code === 'SQLITE_CONSTRAINT_PRIMARYKEY' ||
    code === 'ER_DUP_ENTRY' ||
    errno === 1062
  );
}

/** A foreign key violation (e.g. inserting a member for a user deleted meanwhile). */
export function isForeignKeyViolation(err: unknown): boolean {
  const { code, errno } = (err ?? {}) as DriverError;
  return code === 'SQLITE_CONSTRAINT_FOREIGNKEY' || code === 'ER_NO_REFERENCED_ROW_2' || errno === 1452;
}

/** Lock conflicts that succeed when the whole transaction is run again. */
export function isRetryable(err: unknown): boolean {
  const { code, errno } = (err ?? {}) as DriverError;
  if (code?.startsWith('SQLITE_BUSY') || code?.startsWith('SQLITE_LOCKED')) return true;
  return code === 'ER_LOCK_DEADLOCK' || code === 'ER_LOCK_WAIT_TIMEOUT' || errno === 1213 || errno === 1205;
}

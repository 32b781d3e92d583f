/**
 * The settings that decide whether an acknowledged send survives a crash, read once at start and
 * logged. The README promises that a send is answered only after it is stored durably: a node
 * killed (kill -9), or a database server that crashes right after the answer, keeps the message.
 *   SQLite: `PRAGMA synchronous` FULL (or EXTRA) survives a power loss; NORMAL in WAL mode loses at
 *           most the last transactions in an OS crash or power loss, never the file; OFF may lose
 *           or corrupt it.
 *   MySQL:  `innodb_flush_log_at_trx_commit` 1 survives a power loss; 2 a crash of the server
 *           process but not of the machine; 0 may lose the last second even when only mysqld dies.
 * OFF and 0 cannot keep the promise: the node refuses to start. The weaker-than-power-loss
 * settings are logged as a warning.
 */
import type { Knex } from 'knex';
import { driver, durabilitySettings } from './db.ts';

export interface Durability {
  driver: 'sqlite' | 'mysql';
  settings: Record<string, string | number>;
  /** What an acknowledged send survives. */
  survives: 'power loss' | 'process crash' | 'nothing';
}

/** The settings (read back from the database by db.ts) and what they guarantee. */
export async function readDurability(db: Knex): Promise<Durability> {
  const settings = await durabilitySettings(db);
  if (driver(db) === 'sqlite') {
    const sync = settings.synchronous;
    const survives = sync === 'FULL' || sync === 'EXTRA' ? 'power loss' : sync === 'NORMAL' ? 'process crash' : 'nothing';
    return { driver: 'sqlite', settings, survives };
  }
  const flush = Number(settings.innodb_flush_log_at_trx_commit);
  return { driver: 'mysql', settings, survives: flush === 1 ? 'power loss' : flush === 2 ? 'process crash' : 'nothing' };
}

interface InfoLog {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

/** Reads, logs, and throws when the settings cannot keep "acknowledged = durable". */
export async function checkDurability(db: Knex, log: InfoLog): Promise<Durability> {
  const d = await readDurability(db);
  if (d.survives === 'nothing') {
    const what = d.driver === 'sqlite' ? 'PRAGMA synchronous is OFF' : 'innodb_flush_log_at_trx_commit is 0';
    throw new Error(`Refusing to start: ${what}, so an acknowledged message could be lost in a crash (see src/store/durability.ts). ` +
      (d.driver === 'sqlite' ? 'Use synchronous NORMAL (WAL) or FULL.' : 'Set innodb_flush_log_at_trx_commit to 1 (or 2).'));
  }
  const line = { driver: d.driver, ...d.settings, survives: d.survives };
  if (d.survives === 'power loss') log.info(line, 'database durability');
  else log.warn(line, 'database durability: acknowledged messages survive a crash of the process, not a power loss');
  return d;
}

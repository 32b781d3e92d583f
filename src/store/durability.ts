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
import { driver, type Db } from './db.ts';

export interface Durability {
  driver: 'sqlite' | 'mysql';
  settings: Record<string, string | number>;
  /** What survives: 'power loss', 'process crash', or nothing. */
  survives: 'power loss' | 'process crash' | 'nothing';
}

const SYNCHRONOUS = ['OFF', 'NORMAL', 'FULL', 'EXTRA'];

export async function readDurability(db: Db): Promise<Durability> {
  if (driver(db) === 'sqlite') {
    const [{ synchronous }] = (await db.raw('PRAGMA synchronous')) as [{ synchronous: number }];
    const [{ journal_mode: journal }] = (await db.raw('PRAGMA journal_mode')) as [{ journal_mode: string }];
    const level = SYNCHRONOUS[synchronous] ?? String(synchronous);
    const survives = synchronous >= 2 ? 'power loss' : synchronous === 1 ? 'process crash' : 'nothing';
    return { driver: 'sqlite', settings: { synchronous: level, journal_mode: journal }, survives };
  }
  const [rows] = (await db.raw('SELECT @@innodb_flush_log_at_trx_commit AS flush, @@sync_binlog AS sync_binlog')) as [{ flush: number | string; sync_binlog: number | string }[]];
  const flush = Number(rows[0]!.flush);
  const survives = flush === 1 ? 'power loss' : flush === 2 ? 'process crash' : 'nothing';
  return { driver: 'mysql', settings: { innodb_flush_log_at_trx_commit: flush, sync_binlog: Number(rows[0]!.sync_binlog) }, survives };
}

interface InfoLog {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

/** Reads, logs, and throws when the settings cannot keep "acknowledged = durable". */
export async function checkDurability(db: Db, log: InfoLog): Promise<Durability> {
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

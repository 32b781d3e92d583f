/**
 * The database backends a test run exercises: SQLite always (a temp file), MySQL/MariaDB too when
 * MYSQL_URL (or DATABASE_URL=mysql://…) is set. Each url() call makes a fresh, empty database and
 * returns drop() to remove it, so runs never see each other's data.
 *
 *   for (const backend of backends()) describe(backend.name, () => { ... });
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';

export interface Backend {
  name: 'sqlite' | 'mysql';
  url(): Promise<{ url: string; drop(): Promise<void> }>;
}

/** The MySQL server to create test databases on, if any. */
export function mysqlBaseUrl(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.MYSQL_URL) return env.MYSQL_URL;
  if (env.DATABASE_URL?.startsWith('mysql://')) return env.DATABASE_URL;
  return undefined;
}

const sqlite: Backend = {
  name: 'sqlite',
  async url() {
    const dir = await mkdtemp(join(tmpdir(), 'chatapi-test-'));
    return {
      url: `sqlite:${join(dir, 'chatapi.db')}`,
      drop: () => rm(dir, { recursive: true, force: true }),
    };
  },
};

function mysqlBackend(base: string): Backend {
  return {
    name: 'mysql',
    async url() {
      const name = `chatapi_t_${randomBytes(6).toString('hex')}`;
      await onServer(base, `CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`);
      const u = new URL(base);
      u.pathname = `/${name}`;
      return { url: u.toString(), drop: () => onServer(base, `DROP DATABASE IF EXISTS \`${name}\``) };
    },
  };
}

/** Runs one statement on the server named by `base` (its database part is ignored). */
async function onServer(base: string, sql: string): Promise<void> {
  const u = new URL(base);
  const conn = await mysql.createConnection({
    host: u.hostname,
    port: u.port ? Number(u.port) : 3306,
    user: decodeURIComponent(u.username),
    password: decodeURIComponent(u.password),
  });
  try {
    await conn.query(sql);
  } finally {
    await conn.end();
  }
}

export function backends(): Backend[] {
  const base = mysqlBaseUrl();
  return base ? [sqlite, mysqlBackend(base)] : [sqlite];
}

/**
 * First-start conveniences for a newcomer: a master key when MASTER_KEY is unset (generated once,
 * kept in the data directory so it survives restarts) and a demo tenant whose key is printed
 * once. Nothing here is a fixed secret: both are random per installation.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Config } from './config.ts';
import type { Domain } from './domain/index.ts';

/** Where generated secrets live: next to the SQLite file, or ./data for MySQL. */
export function dataDir(config: Config): string {
  return config.databaseUrl.startsWith('sqlite:') ? dirname(resolve(config.databaseUrl.slice('sqlite:'.length))) : resolve('data');
}

export function ensureMasterKey(config: Config): { key: string; generated: boolean; file?: string } {
  if (config.masterKey) return { key: config.masterKey, generated: false };
  const file = join(dataDir(config), 'master.key');
  if (existsSync(file)) return { key: readFileSync(file, 'utf8').trim(), generated: false, file };
  mkdirSync(dirname(file), { recursive: true });
  const key = 'mk_' + randomBytes(32).toString('base64url');
  writeFileSync(file, key + '\n', { mode: 0o600 });
  return { key, generated: true, file };
}

/** Creates the demo tenant when the installation has no tenant at all; returns its key once. */
export async function ensureDemoTenant(domain: Domain): Promise<{ id: string; api_key: string } | null> {
  const existing = await domain.tenants.list({ limit: 1 });
  if (existing.items.length > 0) return null;
  const { tenant, api_key } = await domain.tenants.create({ name: 'demo' });
  return { id: tenant.id, api_key };
}

// What a newcomer runs first: `chatapi --help` lists every command, `tenant create` and `tenant
// list` work from the shell, and .env.example carries every setting with the default config.ts has.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseEnv, promisify } from 'node:util';
import { loadConfig } from '../../src/config.ts';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const chatapi = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  run(process.execPath, ['--import', 'tsx', 'src/main.ts', ...args], { cwd: ROOT, env: { ...process.env, ...env } });

test('chatapi --help lists every command', async () => {
  const { stdout } = await chatapi(['--help']);
  for (const cmd of ['serve', 'migrate', 'tenant create', 'tenant list']) assert.match(stdout, new RegExp(`^  ${cmd}\\b`, 'm'), cmd);
});

test('chatapi tenant create, then tenant list shows it', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'chatapi-cli-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const env = { DATABASE_URL: `sqlite:${path.join(dir, 'db.sqlite')}`, LOG_LEVEL: 'silent' };
  await chatapi(['migrate'], env);
  const created = JSON.parse((await chatapi(['tenant', 'create', 'Acme', 'Inc'], env)).stdout) as { tenant_id: string; api_key: string };
  assert.match(created.api_key, /^ck_/);
  const { stdout } = await chatapi(['tenant', 'list'], env);
  assert.deepEqual(stdout.trim().split('\n').map((l) => l.split('\t').slice(0, 2)), [[created.tenant_id, 'Acme Inc']]);
});

test('.env.example names every setting src/config.ts reads, with its default', async () => {
  const source = await readFile(path.join(ROOT, 'src/config.ts'), 'utf8');
  const names = [...new Set([...source.matchAll(/\(env, '([A-Z0-9_]+)'/g)].map((m) => m[1]!))].sort();
  const example = await readFile(path.join(ROOT, '.env.example'), 'utf8');
  const listed = new Set([...example.matchAll(/^#? ?([A-Z0-9_]+)=/gm)].map((m) => m[1]!));
  assert.deepEqual(names.filter((n) => !listed.has(n)), [], 'settings missing from .env.example');
  // The uncommented values are the defaults: loading them changes nothing.
  assert.deepEqual(loadConfig(parseEnv(example) as Record<string, string>), loadConfig({}));
});

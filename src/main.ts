#!/usr/bin/env -S node --import tsx
/**
 * chatapi command line.
 *   chatapi serve [--http-only | --ws-only]   run REST and the WebSocket node (both by default)
 *   chatapi migrate                           apply database migrations and exit
 *   chatapi tenant create <name>              create a tenant and print its API key once
 *   chatapi tenant list                       list tenants (id, name, created_at), oldest first
 *   chatapi --help                            list the commands
 * Settings come from the environment (and a .env file in the working directory): see src/config.ts.
 */
import { existsSync } from 'node:fs';
import { loadConfig, ConfigError, type Config } from './config.ts';
import { createLogger } from './log.ts';
import { openDatabase, migrate, closeDatabase } from './store/db.ts';
import { start } from './server.ts';
import { ensureDemoTenant, ensureMasterKey } from './bootstrap.ts';

function config(): Config {
  if (existsSync('.env')) process.loadEnvFile('.env');
  try {
    return loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`chatapi: configuration error: ${err.message}`);
      process.exit(2);
    }
    throw err;
  }
}

async function runMigrate(): Promise<void> {
  const db = await openDatabase(config().databaseUrl);
  await migrate(db);
  await closeDatabase(db);
  console.log('chatapi: migrations applied');
}

function printBanner(cfg: Config, httpPort: number, wsPort: number, master: ReturnType<typeof ensureMasterKey>, demo: { id: string; api_key: string } | null) {
  const host = cfg.host === '0.0.0.0' ? 'localhost' : cfg.host;
  const lines = [
    '',
    'chatapi is running',
    httpPort ? `  REST         http://${host}:${httpPort}/v1   (docs: http://${host}:${httpPort}/docs)` : '',
    wsPort ? `  WebSocket    ws://${host}:${wsPort}/v1/ws` : '',
    `  database     ${cfg.databaseUrl.replace(/\/\/([^:@/]+):[^@]*@/, '//$1:***@')}`,
    master.generated ? `  master key   ${master.key}   (generated; kept in ${master.file})` : master.file ? `  master key   in ${master.file}` : '  master key   from MASTER_KEY',
    demo ? `  demo tenant  ${demo.id}\n  demo key     ${demo.api_key}   (shown once; rotate with POST /v1/tenants/{id}/keys)` : '',
    '',
  ];
  console.log(lines.filter((l) => l !== '').join('\n'));
}

async function runServe(args: string[]): Promise<void> {
  const cfg = config();
  const master = ensureMasterKey(cfg);
  const running = await start({ ...cfg, masterKey: master.key }, { http: !args.includes('--ws-only'), ws: !args.includes('--http-only') });
  const demo = await ensureDemoTenant(running.domain);
  printBanner(cfg, running.httpPort, running.wsPort, master, demo);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    running.log.info({ signal }, 'shutting down');
    const force = setTimeout(() => process.exit(1), cfg.shutdownTimeoutMs).unref();
    running.close().then(() => { clearTimeout(force); process.exit(0); }, () => process.exit(1));
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

const USAGE = `usage: chatapi <command>

commands:
  serve [--http-only | --ws-only]   run REST (HTTP_PORT) and the WebSocket node (WS_PORT); both by default
  migrate                           apply database migrations and exit
  tenant create <name>              create a tenant and print its API key (shown once)
  tenant list                       list tenants: id, name, created_at (oldest first)
  help, --help                      this list

Settings come from the environment and a .env file in the working directory
(every one with its default: .env.example, documented in src/config.ts).`;

async function runTenant(args: string[]): Promise<void> {
  const [verb, ...rest] = args;
  if (!(verb === 'create' && rest.length) && !(verb === 'list' && !rest.length)) throw new Error('usage: chatapi tenant create <name> | chatapi tenant list');
  const cfg = config();
  const running = await start(cfg, { http: false, ws: false, log: createLogger('error') }); // stdout is the answer
  try {
    if (verb === 'create') {
      const { tenant, api_key } = await running.domain.tenants.create({ name: rest.join(' ') });
      console.log(JSON.stringify({ tenant_id: tenant.id, api_key }, null, 2));
    } else {
      for (let cursor: string | undefined, more = true; more;) {
        const page = await running.domain.tenants.list({ limit: 100, cursor });
        for (const t of page.items) console.log(`${t.id}\t${t.name}\t${t.created_at}`);
        cursor = page.next_cursor ?? undefined;
        more = cursor !== undefined;
      }
    }
  } finally {
    await running.close();
  }
}

const [command, ...args] = process.argv.slice(2);
const commands: Record<string, (a: string[]) => Promise<void>> = { serve: runServe, migrate: runMigrate, tenant: runTenant };
if (command === '--help' || command === '-h' || command === 'help') {
  console.log(USAGE);
  process.exit(0);
}
const run = commands[command ?? ''];
if (!run) {
  console.error(command ? `chatapi: unknown command "${command}"\n\n${USAGE}` : USAGE);
  process.exit(2);
}
run(args).catch((err) => {
  console.error(`chatapi ${command}: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});

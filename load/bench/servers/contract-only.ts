/**
 * HTTP benchmark subject `contract`: chatapi's real Koa app (request id, auth middleware, body
 * parser, openapi-backend routing + Ajv validation + security, handler, envelope) in front of
 * a stub domain that answers from memory: the contract layer's cost without a database.
 * `--limiter` mounts the real rate-limit middleware too (memory; a limit nobody reaches).
 * `--store` (subject `contract+store`, the REST floor of a durable send): the stub's send stores
 * each message with chatapi's own durable send first (store.appendMessage on SQLite: the group
 * commit and batch, the same code and schema, synchronous=FULL, the WAL sync off the loop, as
 * servers/uws-durable.ts does for the WebSocket), and answers with the stored row after its commit.
 * Left out is what the real node does around that: the API key, user and membership reads, the
 * domain's checks and its events. So chatapi-send divided by this says how much of its distance to
 * bare Koa is the contract layer and the durable store, and how much is its own work.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../../src/config.ts';
import { createLogger } from '../../../src/log.ts';
import type { Domain } from '../../../src/domain/index.ts';
import { messageOut } from '../../../src/domain/mappers.ts';
import { bodyHash } from '../../../src/domain/messages.ts';
import { createHttpApp } from '../../../src/http/app.ts';
import { createTenantLimiter } from '../../../src/ratelimit/index.ts';
import { rateLimitMiddleware } from '../../../src/ratelimit/middleware.ts';
import { resolveFromAuthState } from '../../../src/ratelimit/resolver.ts';
import { closeDatabase, migrate, openDatabase } from '../../../src/store/db.ts';
import { appendMessage } from '../../../src/store/messages.ts';
import { uuidv7 } from '../../../src/store/ordered-id.ts';

const now = new Date().toISOString();
const settings = {
  rate_limit_per_second: 100_000, rate_limit_burst: 100_000, default_token_ttl_seconds: 3600,
  max_token_ttl_seconds: 86400, allowed_origins: [],
};
const tenant = { id: randomUUID(), name: 'bench', settings, created_at: now, updated_at: now };
const user = {
  id: 'bench-user', username: 'bench-user', email: null, display_name: null, role: 'user', created_at: now, updated_at: now,
  permissions: { can_send_message: true, can_receive_message: true, can_delete_message: false, can_edit_message: false },
};
let seq = 0;
const STUB_ROOM = '9b2f7c1e-5d4a-4e3b-8c2d-1a0b9c8d7e6f'; // the room http-bench.ts posts to
const withStore = process.argv.includes('--store');
const dir = withStore ? mkdtempSync(join(tmpdir(), 'chatapi-contract-store-')) : undefined;
const knex = dir ? await openDatabase(`sqlite:${join(dir, 'floor.db')}`, { sqliteSynchronous: 'FULL' }) : undefined;
if (knex) {
  await migrate(knex);
  const at = Date.now();
  await knex('tenants').insert({ id: tenant.id, name: 'bench', api_key_hash: 'x'.repeat(64), jwt_secret: 'x', settings: '{}', created_at: at, updated_at: at });
  await knex('users').insert({ tenant_id: tenant.id, id: user.id, username: user.username, role: 'user', permissions: '{}', created_at: at, updated_at: at });
  await knex('rooms').insert({ id: STUB_ROOM, tenant_id: tenant.id, type: 'group', name: 'bench', created_by: user.id, last_seq: 0, created_at: at, updated_at: at });
  await knex('room_members').insert({ tenant_id: tenant.id, room_id: STUB_ROOM, user_id: user.id, role: 'owner', joined_at: at });
}

/** The durable send of `--store`: stored and committed before the answer, or the request fails (a 500 the bench counts). */
async function storedSend(roomId: string, input: { content: string; client_msg_id?: string }) {
  const row = await appendMessage(knex!, {
    id: uuidv7(), tenant_id: tenant.id, room_id: roomId, sender_id: user.id, content: input.content, meta: null,
    client_msg_id: input.client_msg_id ?? null, body_hash: bodyHash(input.content, null), edited_at: null, deleted_at: null,
  }, Date.now);
  if (!row) throw new Error('contract+store: the send was refused (room or membership missing)');
  return { created: true, message: messageOut(row) };
}

const stubDomain = {
  tenants: { authenticateKey: async (key: string) => (key === 'bench-key' ? tenant : null) },
  users: { resolve: async (_t: string, id: string) => (id === user.id ? user : null) },
  messages: {
    send: async (_caller: unknown, roomId: string, input: { content: string; client_msg_id?: string }) => (knex ? storedSend(roomId, input) : {
      created: true,
      message: {
        id: randomUUID(), room_id: roomId, seq: ++seq, sender_id: user.id, content: input.content, meta: null,
        client_msg_id: input.client_msg_id ?? null, created_at: now, edited_at: null, deleted_at: null,
      },
    }),
  },
} as unknown as Domain;

const config = loadConfig({ ...process.env, DATABASE_URL: 'sqlite::memory-unused', LOG_LEVEL: 'warn', MASTER_KEY: randomUUID() });
const log = createLogger('warn');
const withLimiter = process.argv.includes('--limiter');
const limiter = withLimiter ? await createTenantLimiter({ prefix: 'bench:', log }) : undefined;
const { app } = await createHttpApp({
  config, domain: stubDomain, log, startedAt: Date.now(), version: 'bench',
  ...(limiter ? { limiter, rateLimit: rateLimitMiddleware(limiter, resolveFromAuthState(config)) } : {}),
});
const server = http.createServer(app.callback());
server.keepAliveTimeout = 65_000;
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.send?.({ type: 'ready', httpPort: address && typeof address !== 'string' ? address.port : 0 });
});
const stop = async () => {
  if (knex) await closeDatabase(knex).catch(() => {});
  if (dir) rmSync(dir, { recursive: true, force: true });
  process.exit(0);
};
process.on('disconnect', () => void stop());
process.on('message', (m: { type?: string }) => { if (m?.type === 'stop') void stop(); });


/**
 * HTTP benchmark subject `contract`: chatapi's real Koa app (request id, auth middleware, body
 * parser, openapi-backend routing + Ajv validation + security, handler, envelope) in front of
 * a stub domain that answers from memory: the contract layer's cost without a database.
 * `--limiter` mounts the real rate-limit middleware too (memory; a limit nobody reaches).
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { loadConfig } from '../../../src/config.ts';
import { createLogger } from '../../../src/log.ts';
import type { Domain } from '../../../src/domain/index.ts';
import { createHttpApp } from '../../../src/http/app.ts';
import { createTenantLimiter } from '../../../src/ratelimit/index.ts';
import { rateLimitMiddleware } from '../../../src/ratelimit/middleware.ts';
import { resolveFromAuthState } from '../../../src/ratelimit/resolver.ts';

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
const stubDomain = {
  tenants: { authenticateKey: async (key: string) => (key === 'bench-key' ? tenant : null) },
  users: { resolve: async (_t: string, id: string) => (id === user.id ? user : null) },
  messages: {
    send: async (_caller: unknown, roomId: string, input: { content: string; client_msg_id?: string }) => ({
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
process.on('disconnect', () => process.exit(0));
process.on('message', (m: { type?: string }) => { if (m?.type === 'stop') process.exit(0); });


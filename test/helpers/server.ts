/**
 * Starts the real chatapi assembly (src/server.ts) on port 0 against a fresh database of the
 * given backend, and offers the few steps almost every test needs: a tenant, users, clients.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type Koa from 'koa';
import { loadConfig, type Config } from '../../src/config.ts';
import { start, type RunningServer, type StartOptions } from '../../src/server.ts';
import type { Backend } from './backends.ts';
import { apiClient, raw, type ApiClient, type Headers } from './client.ts';

export interface TestTenant {
  id: string;
  apiKey: string;
  /** Acts as the tenant (X-API-Key alone). */
  client: ApiClient;
  /** Acts as a user through X-API-Key + X-User-Id. */
  as(userId: string): ApiClient;
  /** Creates a user (role `user` unless given) and returns a client acting as them. */
  user(id: string, extra?: { role?: 'superadmin' | 'admin' | 'moderator' | 'staff' | 'user' }): Promise<ApiClient>;
  headers(userId?: string): Headers;
}

export interface TestServer {
  config: Config;
  running: RunningServer;
  baseUrl: string;
  wsUrl: string;
  masterKey: string;
  master: ApiClient;
  anonymous: ApiClient;
  client(headers: Headers): ApiClient;
  raw: (method: string, path: string, init?: Parameters<typeof raw>[3]) => ReturnType<typeof raw>;
  tenant(name?: string): Promise<TestTenant>;
  close(): Promise<void>;
}

export async function startTestServer(backend: Backend, overrides: Partial<Config> = {}, opts: StartOptions = {}): Promise<TestServer> {
  const db = await backend.url();
  const masterKey = 'mk_test_' + randomBytes(16).toString('hex');
  const config: Config = {
    ...loadConfig({ LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent' }),
    httpPort: 0,
    wsPort: 0,
    host: '127.0.0.1',
    databaseUrl: db.url,
    masterKey,
    // Suites make hundreds of calls per tenant in a second; rate-limit tests set their own limits.
    rateLimitPerSecond: 100_000,
    rateLimitBurst: 100_000,
    // argon2id at OWASP's cost takes ~50 ms a hash; the suite hashes at the lowest cost instead.
    argon2MemoryKib: 256,
    argon2TimeCost: 1,
    ...overrides,
  };
  const running = await start(config, opts);
  const baseUrl = `http://127.0.0.1:${running.httpPort}`;
  const server: TestServer = {
    config,
    running,
    baseUrl,
    wsUrl: `ws://127.0.0.1:${running.wsPort}/v1/ws`,
    masterKey,
    master: apiClient(baseUrl, { 'X-Master-Key': masterKey }),
    anonymous: apiClient(baseUrl),
    client: (headers) => apiClient(baseUrl, headers),
    raw: (method, path, init) => raw(baseUrl, method, path, init),
    tenant: (name = 'test tenant') => createTestTenant(server, name),
    close: async () => {
      await running.close();
      await db.drop();
    },
  };
  return server;
}

async function createTestTenant(server: TestServer, name: string): Promise<TestTenant> {
  const { data, error } = await server.master.POST('/v1/tenants', { body: { name } });
  if (!data) throw new Error(`createTenant failed: ${JSON.stringify(error)}`);
  const { tenant, api_key: apiKey } = data.data;
  const headers = (userId?: string): Headers => (userId ? { 'X-API-Key': apiKey, 'X-User-Id': userId } : { 'X-API-Key': apiKey });
  const client = server.client(headers());
  return {
    id: tenant.id,
    apiKey,
    client,
    headers,
    as: (userId) => server.client(headers(userId)),
    user: async (id, extra = {}) => {
      const res = await client.POST('/v1/users', { body: { id, username: id, ...extra } });
      if (!res.data) throw new Error(`createUser ${id} failed: ${JSON.stringify(res.error)}`);
      return server.client(headers(id));
    },
  };
}

/** Serves a Koa app built by a test (e.g. over an instrumented domain) on 127.0.0.1, port 0. */
export async function listenApp(app: Koa): Promise<{ baseUrl: string; close(): Promise<void> }> {
  const server = http.createServer(app.callback());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

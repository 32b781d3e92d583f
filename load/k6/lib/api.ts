/** Set-up through the public REST API (what an integrator's backend does), for setup(). */
import http, { type RefinedResponse, type ResponseType } from 'k6/http';
import { BASE_URL, MASTER_KEY } from './env.ts';

export interface Tenant { id: string; apiKey: string }

type Res = RefinedResponse<ResponseType | undefined>;

/** Response header by name, case-insensitively (k6 canonicalises names: `Ratelimit-Policy`). */
export function header(res: Res, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const key in res.headers) if (key.toLowerCase() === wanted) return res.headers[key];
  return undefined;
}

function call(method: string, path: string, headers: Record<string, string>, body?: unknown): any {
  const res = http.request(method, `${BASE_URL}${path}`, body === undefined ? null : JSON.stringify(body), {
    headers: { 'Content-Type': 'application/json', ...headers },
    tags: { name: `setup ${method} ${path.replace(/\/[0-9a-f-]{36}|\/u-[\w-]+/g, '/{id}')}` },
  });
  let envelope: { success?: boolean; data?: any; error?: { code: string; message: string } } = {};
  try { envelope = res.json() as typeof envelope; } catch { /* reported below */ }
  if (res.status >= 300 || !envelope.success) {
    throw new Error(`${method} ${path} → ${res.status} ${envelope.error?.code ?? ''} ${envelope.error?.message ?? String(res.body).slice(0, 200)}`);
  }
  return envelope.data;
}

export function createTenant(name: string, settings?: { rate_limit_per_second?: number; rate_limit_burst?: number }): Tenant {
  if (!MASTER_KEY) throw new Error('MASTER_KEY is required: the operator key chatapi printed at start (or set in .env)');
  const data = call('POST', '/v1/tenants', { 'X-Master-Key': MASTER_KEY }, settings ? { name, settings } : { name });
  return { id: data.tenant.id, apiKey: data.api_key };
}

export function createUser(t: Tenant, id: string): string {
  call('POST', '/v1/users', { 'X-API-Key': t.apiKey }, { id, username: id });
  return id;
}

export function mintToken(t: Tenant, userId: string, ttlSeconds = 86_400): string {
  return call('POST', `/v1/users/${encodeURIComponent(userId)}/tokens`, { 'X-API-Key': t.apiKey }, { ttl_seconds: ttlSeconds }).token;
}

export function createRoom(t: Tenant, owner: string, members: string[], name: string): string {
  return call('POST', '/v1/rooms', { 'X-API-Key': t.apiKey, 'X-User-Id': owner }, { type: 'group', name, members }).id;
}

export function realtimeTicket(t: Tenant, userId: string): string {
  return call('POST', '/v1/realtime/tickets', { 'X-API-Key': t.apiKey, 'X-User-Id': userId }).ticket;
}

/** A unique-enough run id so repeated runs against one server never collide. */
export function runId(): string {
  return `${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
}

/** Sets up tenants, users, tokens and rooms through the public REST API (as an integrator would). */
import { randomUUID } from 'node:crypto';
import { HttpClient } from './http.ts';

export interface TenantHandle {
  id: string;
  apiKey: string;
}

/** Most members createRoom accepts at once (maxItems in spec/openapi.yaml). */
const CREATE_MAX = 500;

export class ChatApiSetup {
  constructor(public http: HttpClient, private readonly masterKey: string) {}

  async tenant(name: string, settings?: { rate_limit_per_second?: number; rate_limit_burst?: number }): Promise<TenantHandle> {
    const body = settings ? { name, settings } : { name };
    const data = await this.http.call('POST', '/v1/tenants', { 'X-Master-Key': this.masterKey }, body);
    return { id: data.tenant.id, apiKey: data.api_key };
  }

  async user(t: TenantHandle, id = `u-${randomUUID().slice(0, 12)}`): Promise<string> {
    await this.http.call('POST', '/v1/users', { 'X-API-Key': t.apiKey }, { id, username: id });
    return id;
  }

  async token(t: TenantHandle, userId: string, ttlSeconds = 3600): Promise<string> {
    const data = await this.http.call('POST', `/v1/users/${encodeURIComponent(userId)}/tokens`,
      { 'X-API-Key': t.apiKey }, { ttl_seconds: ttlSeconds });
    return data.token;
  }

  /** A group room; beyond the 1,000 members createRoom takes, the rest join one by one (addRoomMember). */
  async room(t: TenantHandle, owner: string, members: string[], name = 'load'): Promise<string> {
    const asOwner = { 'X-API-Key': t.apiKey, 'X-User-Id': owner };
    const data = await this.http.call('POST', '/v1/rooms', asOwner, { type: 'group', name, members: members.slice(0, CREATE_MAX) });
    const id: string = (data.room ?? data).id;
    await mapLimit(members.slice(CREATE_MAX), 16, (userId) => this.http.call('POST', `/v1/rooms/${id}/members`, asOwner, { user_id: userId }));
    return id;
  }

  async send(t: TenantHandle, sender: string, roomId: string, content: string): Promise<{ seq: number; id: string }> {
    const data = await this.http.call('POST', `/v1/rooms/${roomId}/messages`,
      { 'X-API-Key': t.apiKey, 'X-User-Id': sender, 'Idempotency-Key': randomUUID() }, { content });
    return data.message ?? data;
  }
}

/** Runs `fn` over items with at most `limit` in flight (bounded set-up bursts). */
export async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  });
  await Promise.all(workers);
  return out;
}

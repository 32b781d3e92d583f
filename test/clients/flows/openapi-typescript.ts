// The short flow, through openapi-typescript's types and openapi-fetch (copied next to the generated
// schema.d.ts and type-checked there with tsc --strict before it runs).
import createClient from 'openapi-fetch';
import type { paths } from './schema';

export interface FlowInput { baseUrl: string; masterKey: string; fetch: (input: Request) => Promise<Response> }
export interface FlowResult { first: { id: string; seq: number; status: number }; repeat: { id: string; status: number }; listed: string[] }

export async function run({ baseUrl, masterKey, fetch }: FlowInput): Promise<FlowResult> {
  const master = createClient<paths>({ baseUrl, fetch, headers: { 'X-Master-Key': masterKey } });
  const tenant = await master.POST('/v1/tenants', { body: { name: 'openapi-typescript flow' } });
  if (!tenant.data) throw new Error(`createTenant: ${JSON.stringify(tenant.error)}`);
  const key = tenant.data.data.api_key;
  const server = createClient<paths>({ baseUrl, fetch, headers: { 'X-API-Key': key } });
  for (const id of ['alice', 'bob']) {
    const user = await server.POST('/v1/users', { body: { id, username: id } });
    if (!user.data) throw new Error(`createUser: ${JSON.stringify(user.error)}`);
  }
  const minted = await server.POST('/v1/users/{user_id}/tokens', { params: { path: { user_id: 'alice' } }, body: { ttl_seconds: 600 } });
  if (!minted.data) throw new Error(`mintUserToken: ${JSON.stringify(minted.error)}`);
  const alice = createClient<paths>({ baseUrl, fetch, headers: { Authorization: `Bearer ${minted.data.data.token}` } });
  const room = await alice.POST('/v1/rooms', { body: { type: 'group', name: 'general', members: ['bob'] } });
  if (!room.data) throw new Error(`createRoom: ${JSON.stringify(room.error)}`);
  const room_id = room.data.data.id;
  const send = () =>
    alice.POST('/v1/rooms/{room_id}/messages', { params: { path: { room_id }, header: { 'Idempotency-Key': 'flow-1' } }, body: { content: 'hello' } });
  const first = await send();
  const repeat = await send();
  if (!first.data || !repeat.data) throw new Error(`sendMessage: ${JSON.stringify(first.error ?? repeat.error)}`);
  const list = await alice.GET('/v1/rooms/{room_id}/messages', { params: { path: { room_id }, query: { after_seq: 0 } } });
  if (!list.data) throw new Error(`listRoomMessages: ${JSON.stringify(list.error)}`);
  return {
    first: { id: first.data.data.id, seq: first.data.data.seq, status: first.response.status },
    repeat: { id: repeat.data.data.id, status: repeat.response.status },
    listed: list.data.data.items.map((m) => m.id),
  };
}

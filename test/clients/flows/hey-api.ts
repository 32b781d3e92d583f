// The short flow, through the SDK @hey-api/openapi-ts generates (its bundled fetch client), copied
// next to the generated files and type-checked there with tsc --strict before it runs.
import { createClient, createConfig } from './hey/client';
import { createRoom, createTenant, createUser, listRoomMessages, mintUserToken, sendMessage } from './hey';

export interface FlowInput { baseUrl: string; masterKey: string; fetch: (input: Request) => Promise<Response> }
export interface FlowResult { first: { id: string; seq: number; status: number }; repeat: { id: string; status: number }; listed: string[] }

export async function run({ baseUrl, masterKey, fetch }: FlowInput): Promise<FlowResult> {
  const clientWith = (headers: Record<string, string>) => createClient(createConfig({ baseUrl, fetch: (input: RequestInfo | URL, init?: RequestInit) => fetch(new Request(input, init)), headers }));
  const tenant = await createTenant({ client: clientWith({ 'X-Master-Key': masterKey }), body: { name: 'hey-api flow' } });
  if (!tenant.data) throw new Error(`createTenant: ${JSON.stringify(tenant.error)}`);
  const server = clientWith({ 'X-API-Key': tenant.data.data.api_key });
  for (const id of ['alice', 'bob']) {
    const user = await createUser({ client: server, body: { id, username: id } });
    if (!user.data) throw new Error(`createUser: ${JSON.stringify(user.error)}`);
  }
  const minted = await mintUserToken({ client: server, path: { user_id: 'alice' }, body: { ttl_seconds: 600 } });
  if (!minted.data) throw new Error(`mintUserToken: ${JSON.stringify(minted.error)}`);
  const alice = clientWith({ Authorization: `Bearer ${minted.data.data.token}` });
  const room = await createRoom({ client: alice, body: { type: 'group', name: 'general', members: ['bob'] } });
  if (!room.data) throw new Error(`createRoom: ${JSON.stringify(room.error)}`);
  const room_id = room.data.data.id;
  const send = () => sendMessage({ client: alice, path: { room_id }, headers: { 'Idempotency-Key': 'flow-1' }, body: { content: 'hello' } });
  const first = await send();
  const repeat = await send();
  if (!first.data || !repeat.data) throw new Error(`sendMessage: ${JSON.stringify(first.error ?? repeat.error)}`);
  const list = await listRoomMessages({ client: alice, path: { room_id }, query: { after_seq: 0 } });
  if (!list.data) throw new Error(`listRoomMessages: ${JSON.stringify(list.error)}`);
  return {
    first: { id: first.data.data.id, seq: first.data.data.seq, status: first.response.status },
    repeat: { id: repeat.data.data.id, status: repeat.response.status },
    listed: list.data.data.items.map((m) => m.id),
  };
}

// The short flow, through the Api class swagger-typescript-api generates (fetch transport), copied
// next to the generated api.ts and type-checked there with tsc --strict before it runs.
import { Api, RoomType } from './api.js';

export interface FlowInput { baseUrl: string; masterKey: string; fetch: (input: Request) => Promise<Response> }
export interface FlowResult { first: { id: string; seq: number; status: number }; repeat: { id: string; status: number }; listed: string[] }

export async function run({ baseUrl, masterKey, fetch }: FlowInput): Promise<FlowResult> {
  const api = (headers: Record<string, string>) =>
    new Api({ baseUrl, baseApiParams: { headers }, customFetch: (input, init) => fetch(new Request(input, init)) });
  const tenant = await api({ 'X-Master-Key': masterKey }).v1.createTenant({ name: 'swagger-typescript-api flow' });
  const server = api({ 'X-API-Key': tenant.data.data.api_key });
  for (const id of ['alice', 'bob']) await server.v1.createUser({ id, username: id });
  const minted = await server.v1.mintUserToken('alice', { ttl_seconds: 600 });
  const alice = api({ Authorization: `Bearer ${minted.data.data.token}` });
  const room = await alice.v1.createRoom({ type: RoomType.Group, name: 'general', members: ['bob'] });
  const room_id = room.data.data.id;
  const send = () => alice.v1.sendMessage(room_id, { content: 'hello' }, { headers: { 'Idempotency-Key': 'flow-1' } });
  const first = await send();
  const repeat = await send();
  const list = await alice.v1.listRoomMessages(room_id, { after_seq: 0 });
  return {
    first: { id: first.data.data.id, seq: first.data.data.seq, status: first.status },
    repeat: { id: repeat.data.data.id, status: repeat.status },
    listed: list.data.data.items.map((m) => m.id),
  };
}

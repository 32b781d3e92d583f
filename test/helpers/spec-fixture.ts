/**
 * Real resources to fill an operation's path parameters with: a tenant, its owner-admin `alice`,
 * a member `amy` (with a token), a room they share and a message in it. `params` maps a path
 * parameter's name to the value to use; `headers(caller)` gives the credentials for each kind of
 * caller (spec-ops.ts callerOf). Used by the isolation matrix and the schema fuzzer.
 */
import assert from 'node:assert/strict';
import type { TestServer } from './server.ts';
import type { Caller } from './spec-ops.ts';

export interface SpecFixture {
  tenantId: string;
  apiKey: string;
  /** The tenant's publishable key (X-Publishable-Key), usable from any origin (no allow-list). */
  publishableKey: string;
  /** Path parameter name → value naming a real resource of this tenant. */
  params: Record<string, string>;
  /** The owner-admin's and the member's user ids. */
  userIds: [string, string];
  /** Strings that identify this tenant's data (for leak checks). */
  secrets: string[];
  headers(caller: Caller): Record<string, string>;
}

export async function createFixture(s: TestServer, label: string, users: [string, string] = ['alice', 'amy']): Promise<SpecFixture> {
  const [owner, member] = users;
  const tenant = await s.tenant(`${label} tenant`);
  await tenant.user(owner, { role: 'admin' });
  await tenant.user(member);
  const alice = tenant.as(owner);
  const room = await alice.POST('/v1/rooms', { body: { type: 'group', name: `${label} room`, members: [member] } });
  assert.equal(room.response.status, 201, JSON.stringify(room.error));
  const roomId = room.data!.data.id;
  const secretText = `${label} secret ${tenant.id}`;
  const msg = await alice.POST('/v1/rooms/{room_id}/messages', { params: { path: { room_id: roomId } }, body: { content: secretText } });
  assert.equal(msg.response.status, 201, JSON.stringify(msg.error));
  const token = await tenant.client.POST('/v1/users/{user_id}/tokens', { params: { path: { user_id: member } }, body: {} });
  assert.equal(token.response.status, 201, JSON.stringify(token.error));
  // A webhook (a public address, so no operator flag is needed; disabled, so nothing is sent) and a delivery of it.
  const hook = await tenant.client.POST('/v1/webhooks', { body: { url: 'https://93.184.216.34/hooks', event_types: ['*'], enabled: false } });
  assert.equal(hook.response.status, 201, JSON.stringify(hook.error));
  const webhookId = hook.data!.data.id;
  const delivery = await tenant.client.POST('/v1/webhooks/{webhook_id}/test', { params: { path: { webhook_id: webhookId } } });
  assert.ok(delivery.response.status < 300, JSON.stringify(delivery.error));
  const note = await tenant.client.POST('/v1/notifications', { body: { user_ids: [member], type: 'fixture', title: `${label} notification secret` } });
  assert.equal(note.response.status, 201, JSON.stringify(note.error));
  const ticket = await tenant.as(member).POST('/v1/tickets', { body: { subject: `${label} ticket`, initial_message: `${label} ticket secret` } });
  assert.equal(ticket.response.status, 201, JSON.stringify(ticket.error));
  // Sign-in flows on, and a publishable key (its id names a resource; the key is a credential).
  const settings = await tenant.client.PATCH('/v1/tenants/{tenant_id}', {
    params: { path: { tenant_id: tenant.id } }, body: { settings: { auth: { flows: { password: true, guest: true, email_code: true, invites: true } } } },
  });
  assert.equal(settings.response.status, 200, JSON.stringify(settings.error));
  const pk = await tenant.client.POST('/v1/tenants/{tenant_id}/publishable-keys', { params: { path: { tenant_id: tenant.id } } });
  assert.equal(pk.response.status, 201, JSON.stringify(pk.error));
  const invite = await alice.POST('/v1/rooms/{room_id}/invites', { params: { path: { room_id: roomId } }, body: {} });
  assert.equal(invite.response.status, 201, JSON.stringify(invite.error));
  const params = {
    key_id: pk.data!.data.key.id,
    invite_id: invite.data!.data.invite.id,
    code: invite.data!.data.code,
    tenant_id: tenant.id, user_id: member, room_id: roomId, message_id: msg.data!.data.id, token_id: token.data!.data.token_id,
    ticket_id: ticket.data!.data.id, webhook_id: webhookId, delivery_id: delivery.data!.data.id, notification_id: note.data!.data.items[0]!.id,
  };
  return {
    tenantId: tenant.id,
    apiKey: tenant.apiKey,
    publishableKey: pk.data!.data.publishable_key,
    params,
    userIds: users,
    secrets: [tenant.id, roomId, params.message_id, params.token_id, secretText, `${label} room`, params.ticket_id, `${label} ticket secret`, webhookId, params.delivery_id, params.notification_id, `${label} notification secret`, params.invite_id, params.code],
    headers(caller): Record<string, string> {
      switch (caller) {
        case 'public': return {};
        case 'master': return { 'X-Master-Key': s.masterKey };
        case 'tenant': return { 'X-API-Key': tenant.apiKey };
        case 'user': return { 'X-API-Key': tenant.apiKey, 'X-User-Id': owner };
        case 'publishable': return { 'X-Publishable-Key': pk.data!.data.publishable_key };
      }
    },
  };
}

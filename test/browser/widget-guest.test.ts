// The widget's guest path in real Chromium: a visitor with only the tenant's publishable key and a
// room invite enters as a guest where the tenant allows it, joins the room and chats live with a
// token-holding member's widget; where the guest flow is off the widget says so and gets no session.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, FrameLocator } from 'playwright-core';
import { backends } from '../helpers/backends.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { hostServer, launch, screenshot, validateRestResponses } from './browser.ts';

describe('embeddable widget, guest path (chromium)', () => {
  let server: TestServer;
  let browser: Browser;
  let host: Awaited<ReturnType<typeof hostServer>>;
  const violations: string[][] = [];

  /** A tenant with the given flows, the service's and the host page's origins allowed, and a publishable key. */
  async function tenantWith(name: string, guest: boolean) {
    const tenant = await server.tenant(name);
    const path = { params: { path: { tenant_id: tenant.id } } };
    const settings = { auth: { flows: { guest, invites: true } }, allowed_origins: [server.baseUrl, `http://127.0.0.1:${host.port}`] };
    const patched = await tenant.client.PATCH('/v1/tenants/{tenant_id}', { ...path, body: { settings } });
    assert.ok(patched.data, JSON.stringify(patched.error));
    const pk = (await tenant.client.POST('/v1/tenants/{tenant_id}/publishable-keys', path)).data!.data.publishable_key;
    const alice = await tenant.user('alice');
    const roomId = (await alice.POST('/v1/rooms', { body: { type: 'group', name: 'open room', members: [] } })).data!.data.id;
    const invite = (await alice.POST('/v1/rooms/{room_id}/invites', { params: { path: { room_id: roomId } }, body: {} })).data!.data.code;
    const minted = await tenant.client.POST('/v1/users/{user_id}/tokens', { params: { path: { user_id: 'alice' } }, body: { ttl_seconds: 600 } });
    return { pk, roomId, invite, aliceToken: minted.data!.data.token };
  }

  before(async () => {
    server = await startTestServer(backends()[0]!);
    host = await hostServer(server.baseUrl, () => Promise.reject(new Error('no tickets here')));
    browser = await launch();
  });
  after(async () => {
    assert.deepEqual(violations.flat(), [], 'every REST response the widget got matches the spec');
    await browser?.close();
    await host?.close();
    await server?.close();
  });

  async function open(query: string): Promise<{ frame: FrameLocator; statuses: number[]; shot(name: string): Promise<void> }> {
    const ctx = await browser.newContext({ viewport: { width: 360, height: 520 } });
    violations.push(validateRestResponses(ctx));
    const statuses: number[] = [];
    ctx.on('response', (r) => { if (new URL(r.url()).pathname === '/v1/auth/guest') statuses.push(r.status()); });
    const page = await ctx.newPage();
    await page.goto(`http://127.0.0.1:${host.port}/?${query}`);
    return { frame: page.frameLocator('iframe'), statuses, shot: (name) => screenshot(page, name) };
  }

  test('a guest user can join where the tenant allows it', async () => {
    const t = await tenantWith('guests on', true);
    const member = await open(`room=${t.roomId}&token=${t.aliceToken}`);
    const guest = await open(`room=${t.roomId}&pk=${encodeURIComponent(t.pk)}&invite=${encodeURIComponent(t.invite)}&name=Visitor`);
    for (const w of [member, guest]) await w.frame.locator('body[data-conn="open"]').waitFor();
    assert.deepEqual(guest.statuses, [201]);
    await guest.frame.getByRole('textbox', { name: 'Message' }).fill('hello from a guest');
    await guest.frame.getByRole('button', { name: 'Send' }).click();
    await member.frame.locator('#messages li', { hasText: 'hello from a guest' }).waitFor();
    await guest.shot('widget-guest');
  });

  test('where the guest flow is off the widget says sign-in is not available and gets no session', async () => {
    const t = await tenantWith('guests off', false);
    const guest = await open(`room=${t.roomId}&pk=${encodeURIComponent(t.pk)}&invite=${encodeURIComponent(t.invite)}`);
    await guest.frame.locator('#status', { hasText: 'sign-in not available' }).waitFor();
    assert.deepEqual(guest.statuses, [404]);
    assert.notEqual(await guest.frame.locator('body').getAttribute('data-conn'), 'open');
    await guest.shot('widget-guest-unavailable');
  });
});

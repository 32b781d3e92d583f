// The widget in real Chromium: two host pages chat live through /embed.html iframes; one goes
// offline while the other sends, comes back and shows every missed message once, in order; typing
// and read receipts appear; a host page whose origin the tenant did not allow gets no session.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, BrowserContext, FrameLocator } from 'playwright-core';
import { backends } from '../helpers/backends.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { hostServer, launch, screenshot, validateRestResponses } from './browser.ts';

const HISTORY = Array.from({ length: 24 }, (_, i) => `h${i + 1}`);

describe('embeddable widget (chromium)', () => {
  let server: TestServer;
  let browser: Browser;
  let host: Awaited<ReturnType<typeof hostServer>>;
  let roomId = '';
  const tokens: Record<string, string> = {};
  const contexts: BrowserContext[] = [];
  const violations: string[][] = [];

  before(async () => {
    server = await startTestServer(backends()[0]!, { presenceGraceMs: 200 });
    const tenant = await server.tenant('widget');
    host = await hostServer(server.baseUrl, async (user) => (await tenant.as(user).POST('/v1/realtime/tickets', {})).data!.data.ticket);
    const patched = await server.master.PATCH('/v1/tenants/{tenant_id}', {
      params: { path: { tenant_id: tenant.id } },
      body: { settings: { allowed_origins: [server.baseUrl, `http://127.0.0.1:${host.port}`] } },
    });
    assert.ok(patched.data, JSON.stringify(patched.error));
    const alice = await tenant.user('alice');
    await tenant.user('bob');
    const room = await alice.POST('/v1/rooms', { body: { type: 'group', name: 'widget', members: ['bob'] } });
    roomId = room.data!.data.id;
    for (const text of HISTORY) await alice.POST('/v1/rooms/{room_id}/messages', { params: { path: { room_id: roomId } }, body: { content: text } });
    for (const u of ['alice', 'bob']) {
      const minted = await tenant.client.POST('/v1/users/{user_id}/tokens', { params: { path: { user_id: u } }, body: { ttl_seconds: 600 } });
      tokens[u] = minted.data!.data.token;
    }
    browser = await launch();
  });
  after(async () => {
    assert.deepEqual(violations.flat(), [], 'every REST response the widget got matches the spec');
    await browser?.close();
    await host?.close();
    await server?.close();
  });

  /** A host page with the widget; `via: 'ticket'` makes the host hand over one-time tickets instead of a token. */
  async function open(user: string, origin = `http://127.0.0.1:${host.port}`, theme = 'light', via: 'token' | 'ticket' = 'token'): Promise<{ ctx: BrowserContext; frame: FrameLocator; shot(name: string): Promise<void> }> {
    const ctx = await browser.newContext({ viewport: { width: 360, height: 520 } });
    contexts.push(ctx);
    violations.push(validateRestResponses(ctx));
    const page = await ctx.newPage();
    await page.goto(`${origin}/?room=${roomId}&theme=${theme}&${via === 'token' ? `token=${tokens[user]}` : `user=${user}`}`);
    return { ctx, frame: page.frameLocator('iframe'), shot: (name) => screenshot(page, name) };
  }
  const texts = (frame: FrameLocator) => frame.locator('#messages li .text').allTextContents();

  test('two widgets (token and ticket) chat live, with history, typing, receipts, and resume after going offline', async () => {
    const a = await open('alice');
    const b = await open('bob', undefined, 'dark', 'ticket');
    for (const w of [a, b]) await w.frame.locator('body[data-conn="open"]').waitFor();
    // History pages backwards over REST (token): the newest 20 first, then the rest on request.
    await a.frame.locator('#messages li', { hasText: 'h24' }).waitFor();
    assert.deepEqual(await texts(a.frame), HISTORY.slice(4));
    await a.frame.getByRole('button', { name: 'Load older messages' }).click();
    await a.frame.locator('#messages li[data-seq="1"]').waitFor();
    assert.deepEqual(await texts(a.frame), HISTORY);
    await a.frame.getByRole('button', { name: 'Load older messages' }).waitFor({ state: 'hidden' });
    // With a ticket, history is the replay from bob's delivered cursor.
    await b.frame.locator('#messages li', { hasText: 'h24' }).waitFor();

    await a.frame.getByRole('textbox', { name: 'Message' }).fill('hello bob');
    await a.frame.getByRole('button', { name: 'Send' }).click();
    await b.frame.locator('#messages li', { hasText: 'hello bob' }).waitFor();
    await a.frame.locator('#messages li[data-mine="true"][data-state="read"]', { hasText: 'hello bob' }).waitFor();

    await a.frame.locator('#presence', { hasText: 'bob' }).waitFor(); // presence
    await b.frame.getByRole('textbox', { name: 'Message' }).fill('typing…');
    await a.frame.locator('#typing', { hasText: 'bob is typing' }).waitFor();
    await b.frame.getByRole('textbox', { name: 'Message' }).fill('');

    await b.ctx.setOffline(true);
    await b.frame.locator('body[data-conn="reconnecting"]').waitFor();
    for (const text of ['missed 1', 'missed 2', 'missed 3']) {
      await a.frame.getByRole('textbox', { name: 'Message' }).fill(text);
      await a.frame.getByRole('button', { name: 'Send' }).click();
      await a.frame.locator('#messages li[data-mine="true"]:not([data-state="sending"])', { hasText: text }).waitFor();
    }
    await b.ctx.setOffline(false);
    await b.frame.locator('#messages li', { hasText: 'missed 3' }).waitFor();
    assert.deepEqual(await texts(b.frame), [...HISTORY, 'hello bob', 'missed 1', 'missed 2', 'missed 3']);
    await a.shot('widget-alice-light');
    await b.shot('widget-bob-dark');
  });

  test('a host page from an origin the tenant did not allow gets no session', async () => {
    const c = await open('alice', `http://localhost:${host.port}`);
    await c.frame.locator('#status', { hasText: 'not allowed' }).waitFor();
    assert.deepEqual(await texts(c.frame), []);
    await c.shot('widget-disallowed-origin');
  });
});

// /playground in real Chromium: a REST call from the generated form shows the envelope and the
// rate-limit headers; the WebSocket exchanges frames, each server frame marked valid; a pasted
// publishable key enters as a guest.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { backends } from '../helpers/backends.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { launch, screenshot, validateRestResponses } from './browser.ts';

describe('/playground (chromium)', () => {
  let server: TestServer;
  let browser: Browser;
  let token = '';
  let roomId = '';
  before(async () => {
    server = await startTestServer(backends()[0]!);
    const tenant = await server.tenant();
    const alice = await tenant.user('alice');
    await tenant.user('bob');
    roomId = (await alice.POST('/v1/rooms', { body: { type: 'group', name: 'play', members: ['bob'] } })).data!.data.id;
    token = (await tenant.client.POST('/v1/users/{user_id}/tokens', { params: { path: { user_id: 'alice' } }, body: {} })).data!.data.token;
    browser = await launch();
  });
  after(async () => {
    await browser?.close();
    await server?.close();
  });

  test('a REST call and a WebSocket exchange', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    const violations = validateRestResponses(page);
    await page.goto(`${server.baseUrl}/playground`);
    await page.locator('body[data-ready="true"]').waitFor();
    await page.getByLabel('User token (Bearer)').fill(token);

    await page.getByLabel('Operation').selectOption('getMe');
    await page.getByRole('button', { name: 'Send request' }).click();
    await page.locator('#rest-status', { hasText: '200' }).waitFor();
    assert.match(await page.locator('#rest-headers').textContent() ?? '', /x-ratelimit-remaining: \d+/);
    assert.deepEqual(JSON.parse((await page.locator('#rest-response').textContent())!).data.id, 'alice');

    await page.getByRole('button', { name: 'Connect', exact: true }).click();
    await page.locator('#ws-log li[data-valid="true"]', { hasText: '"type":"connected"' }).waitFor();
    await page.getByLabel('Client frame').selectOption('message.send');
    const example = JSON.parse(await page.getByLabel('Frame JSON').inputValue());
    assert.equal(example.type, 'message.send', 'pre-filled with the spec example');
    await page.getByLabel('Frame JSON').fill(JSON.stringify({ ...example, room_id: roomId, content: 'from the playground' }));
    await page.getByRole('button', { name: 'Send frame' }).click();
    await page.locator('#ws-log li[data-valid="true"]', { hasText: '"type":"message.ack"' }).waitFor();
    await page.getByLabel('Client frame').selectOption('ping');
    await page.getByRole('button', { name: 'Send frame' }).click();
    await page.locator('#ws-log li[data-valid="true"]', { hasText: '"type":"pong"' }).waitFor();
    assert.equal(await page.locator('#ws-log li[data-valid="false"]').count(), 0);
    await screenshot(page, 'playground');
    assert.deepEqual(violations, [], 'every REST response the playground got matches the spec');
    await page.close();
  });

  test('enter as a guest with a publishable key, then call as the guest', async () => {
    const tenant = await server.tenant('guests');
    const path = { params: { path: { tenant_id: tenant.id } } };
    const patched = await tenant.client.PATCH('/v1/tenants/{tenant_id}', { ...path, body: { settings: { auth: { flows: { guest: true } }, allowed_origins: [server.baseUrl] } } });
    assert.ok(patched.data, JSON.stringify(patched.error));
    const pk = (await tenant.client.POST('/v1/tenants/{tenant_id}/publishable-keys', path)).data!.data.publishable_key;
    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    const violations = validateRestResponses(page);
    await page.goto(`${server.baseUrl}/playground`);
    await page.locator('body[data-ready="true"]').waitFor();
    await page.getByLabel('Publishable key').fill(pk);
    await page.getByRole('button', { name: 'Enter as guest' }).click();
    await page.locator('#guest-status', { hasText: 'guest ' }).waitFor();
    await page.getByLabel('Operation').selectOption('getMe');
    await page.getByRole('button', { name: 'Send request' }).click();
    await page.locator('#rest-status', { hasText: '200' }).waitFor();
    assert.equal(JSON.parse((await page.locator('#rest-response').textContent())!).data.role, 'guest');
    assert.deepEqual(violations, [], 'every REST response the playground got matches the spec');
    await page.close();
  });
});

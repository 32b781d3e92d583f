// /docs in real Chromium: Swagger UI and the AsyncAPI reference both render, and no request
// leaves this machine.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { backends } from '../helpers/backends.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { launch, screenshot } from './browser.ts';

describe('/docs (chromium)', () => {
  let server: TestServer;
  let browser: Browser;
  before(async () => {
    server = await startTestServer(backends()[0]!);
    browser = await launch();
  });
  after(async () => {
    await browser?.close();
    await server?.close();
  });

  test('both references render offline, linked from one page', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const hosts = new Set<string>();
    page.on('request', (r) => void hosts.add(new URL(r.url()).host));
    await page.goto(`${server.baseUrl}/docs`);
    await page.locator('.swagger-ui .opblock').first().waitFor();
    await screenshot(page, 'docs-rest');
    await page.getByRole('link', { name: 'WebSocket (AsyncAPI)' }).click();
    await page.locator('#asyncapi').getByText('message.send').first().waitFor();
    await page.getByText('4009').first().waitFor();
    await screenshot(page, 'docs-asyncapi');
    assert.deepEqual([...hosts].filter((h) => h !== new URL(server.baseUrl).host), [], 'no request leaves the machine');
    await page.close();
  });
});

// /docs in real Chromium: Swagger UI and the AsyncAPI reference both render, and no request
// leaves this machine.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { backends } from '../helpers/backends.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { mkdirSync, readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { SCREENSHOTS, launch } from './browser.ts';

describe('/docs (chromium)', () => {
  let server: TestServer;
  let browser: Browser;
  before(async () => {
    server = await startTestServer(backends()[0]!);
    browser = await launch();
    mkdirSync(SCREENSHOTS, { recursive: true });
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
    await page.screenshot({ path: `${SCREENSHOTS}/docs-rest.png` });
    await page.getByRole('link', { name: 'WebSocket (AsyncAPI)' }).click();
    await page.locator('#asyncapi').getByText('message.send').first().waitFor();
    // Every frame (by its name), an example payload of each, and every close code are on the page.
    const text = await page.locator('#asyncapi').innerText();
    const spec = parse(readFileSync(new URL('../../spec/asyncapi.yaml', import.meta.url), 'utf8')) as { components: { messages: Record<string, { name: string }> } };
    const names = Object.values(spec.components.messages).map((m) => m.name);
    assert.deepEqual(names.filter((n) => !text.includes(n)), [], 'every frame is rendered');
    assert.deepEqual(['4001', '4003', '4008', '4009', '4012'].filter((c) => !text.includes(c)), [], 'the close codes are rendered');
    assert.ok(await page.locator('#asyncapi').getByText('"client_msg_id": "c-7f3a9e"').first().isVisible().catch(() => false) || text.includes('c-7f3a9e'), 'examples are rendered');
    await page.screenshot({ path: `${SCREENSHOTS}/docs-asyncapi.png` });
    assert.deepEqual([...hosts].filter((h) => h !== new URL(server.baseUrl).host), [], 'no request leaves the machine');
    await page.close();
  });
});

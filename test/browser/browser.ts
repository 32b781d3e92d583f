/** Real Chromium (Debian's /usr/bin/chromium) through playwright-core, as design.md prescribes. */
import { mkdir } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';

export const SCREENSHOTS = fileURLToPath(new URL('../../test-results/screenshots/', import.meta.url));

export function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

export async function screenshot(page: Page, name: string): Promise<void> {
  await mkdir(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

/**
 * A host page on its own origin that embeds the widget and hands it the token from its own query
 * string by postMessage, answering only the widget's origin.
 */
export async function hostServer(widgetOrigin: string): Promise<{ port: number; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const room = url.searchParams.get('room') ?? '';
    const token = url.searchParams.get('token') ?? '';
    res.setHeader('content-type', 'text/html; charset=utf-8');
    res.end(`<!doctype html><html><body style="margin:0">
<iframe title="Chat" src="${widgetOrigin}/embed.html?room=${encodeURIComponent(room)}&theme=${url.searchParams.get('theme') ?? 'light'}" style="width:320px;height:480px;border:1px solid #ccc"></iframe>
<script>
  window.addEventListener('message', (e) => {
    if (e.origin !== ${JSON.stringify(widgetOrigin)} || e.data?.type !== 'chatapi:ready') return;
    e.source.postMessage({ type: 'chatapi:auth', token: ${JSON.stringify(token)} }, e.origin);
  });
</script></body></html>`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, close: () => new Promise((r) => server.close(() => r())) };
}

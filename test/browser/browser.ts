/** Real Chromium (Debian's /usr/bin/chromium) through playwright-core, as design.md prescribes. */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { checkResponse } from '../helpers/contract.ts';

export const SCREENSHOTS = fileURLToPath(new URL('../../test-results/screenshots/', import.meta.url));

export function launch(): Promise<Browser> {
  const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  if (!existsSync(executablePath)) throw new Error(`no Chromium at ${executablePath}: apt-get install -y chromium (.ci/run does)`);
  return chromium.launch({
    executablePath,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

export async function screenshot(page: Page, name: string): Promise<void> {
  await mkdir(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

/**
 * A host page on its own origin that embeds the widget and hands it, by postMessage and only to the
 * widget's origin, either the user token from its query string (`?token=`) or, with `?user=`, a
 * one-time ticket its backend buys for that user (again on each `chatapi:ticket-request`). With
 * neither, it hands over nothing, and the widget may enter as a guest (`?pk=&invite=`).
 */
export async function hostServer(widgetOrigin: string, mintTicket: (user: string) => Promise<string>): Promise<{ port: number; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/ticket') {
      // The host's own backend buys a one-time ticket with its server key: the key never reaches the page.
      void mintTicket(url.searchParams.get('user') ?? '').then((ticket) => res.end(JSON.stringify({ ticket })));
      return;
    }
    const room = url.searchParams.get('room') ?? '';
    const token = url.searchParams.get('token') ?? '';
    res.setHeader('content-type', 'text/html; charset=utf-8');
    res.end(`<!doctype html><html><body style="margin:0">
<iframe title="Chat" src="${widgetOrigin}/embed.html?room=${encodeURIComponent(room)}&theme=${url.searchParams.get('theme') ?? 'light'}${guestParams(url)}" style="width:320px;height:480px;border:1px solid #ccc"></iframe>
<script>
  const user = ${JSON.stringify(url.searchParams.get('user') ?? '')};
  const ticket = async () => (await (await fetch('/ticket?user=' + encodeURIComponent(user))).json()).ticket;
  window.addEventListener('message', async (e) => {
    if (e.origin !== ${JSON.stringify(widgetOrigin)}) return;
    if (e.data?.type === 'chatapi:ready') {
      e.source.postMessage(user ? { type: 'chatapi:auth', ticket: await ticket() } : { type: 'chatapi:auth', token: ${JSON.stringify(token)} }, e.origin);
    } else if (e.data?.type === 'chatapi:ticket-request') {
      e.source.postMessage({ type: 'chatapi:ticket', ticket: await ticket() }, e.origin);
    }
  });
</script></body></html>`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, close: () => new Promise((r) => server.close(() => r())) };
}

/** `pk`, `invite` and `name` pass through to the widget (its guest path). */
function guestParams(url: URL): string {
  const q = new URLSearchParams();
  for (const k of ['pk', 'invite', 'name']) if (url.searchParams.get(k)) q.set(k, url.searchParams.get(k)!);
  return q.size ? `&${q}` : '';
}

/**
 * Checks every REST response the pages receive (paths under /v1/) against the spec, as the test
 * client does for the tests' own calls. Returns the violations found so far.
 */
export function validateRestResponses(target: BrowserContext | Page): string[] {
  const problems: string[] = [];
  target.on('response', (res) => {
    const url = new URL(res.url());
    if (!url.pathname.startsWith('/v1/')) return;
    void (async () => {
      const headers = new Headers(await res.allHeaders());
      await checkResponse(res.request().method(), url.pathname, res.status(), headers, await res.json());
    })().catch((err: Error) => problems.push(err.message));
  });
  return problems;
}

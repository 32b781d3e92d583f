/**
 * Server-side request forgery: without WEBHOOK_ALLOW_PRIVATE, webhook URLs whose host is or
 * resolves to a loopback, link-local or private address are refused on create and update, and a
 * connection that would reach one is refused at delivery time too (a name re-pointed later).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { isPrivateAddress } from '../../src/outbox/ssrf.ts';
import { sendWebhook } from '../../src/outbox/sender.ts';
import { backends } from '../helpers/backends.ts';
import { startTestServer, type TestServer, type TestTenant } from '../helpers/server.ts';
import { startReceiver } from '../helpers/webhook-receiver.ts';

const REFUSED = [
  'http://127.0.0.1:8080/hooks', 'http://169.254.169.254/latest/meta-data/', 'http://10.1.2.3/hooks', 'http://192.168.1.10/',
  'http://172.16.0.1/', 'http://localhost:3000/hooks', 'http://[::1]/', 'http://[::ffff:127.0.0.1]/', 'http://0.0.0.0/', 'http://[fe80::1]/',
];

test('private, loopback and link-local addresses are recognised; public ones are not', () => {
  for (const ip of ['127.0.0.1', '127.8.9.10', '10.0.0.1', '172.31.255.255', '192.168.0.1', '169.254.169.254', '::1', '::ffff:10.0.0.1', 'fd00::1', 'fe80::1', '0.0.0.0', '100.64.0.1']) {
    assert.equal(isPrivateAddress(ip), true, ip);
  }
  for (const ip of ['93.184.216.34', '8.8.8.8', '172.32.0.1', '2606:4700:4700::1111']) assert.equal(isPrivateAddress(ip), false, ip);
});

test('an attempt to a private address is refused at connect time unless allowed', async () => {
  const rx = await startReceiver();
  try {
    const o = { url: rx.url, eventId: 'evt_x', body: '{"type":"webhook.test","webhook_id":"wh_x"}', secrets: ['whsec_' + Buffer.alloc(24).toString('base64')], timeoutMs: 2000 };
    const refused = await sendWebhook({ ...o, url: rx.url.replace('127.0.0.1', 'localhost'), allowPrivate: false });
    assert.equal(refused.ok, false);
    assert.match(refused.error!, /private address/);
    assert.equal(rx.received.length, 0);
    rx.secrets = o.secrets;
    assert.equal((await sendWebhook({ ...o, allowPrivate: true })).ok, true);
  } finally {
    await rx.close();
  }
});

for (const backend of backends()) {
  describe(`webhook SSRF guard [${backend.name}]`, () => {
    let s: TestServer;
    let t: TestTenant;
    before(async () => {
      s = await startTestServer(backend, {}, { ws: false, outbox: { autostart: false } });
      t = await s.tenant();
    });
    after(() => s.close());

    test('createWebhook and updateWebhook refuse URLs that reach private networks', async () => {
      for (const url of REFUSED) {
        const res = await t.client.POST('/v1/webhooks', { body: { url, event_types: ['*'] } });
        assert.equal(res.response.status, 400, url);
        assert.equal(res.error!.error.code, 'VALIDATION_ERROR');
        assert.match(JSON.stringify(res.error!.error.details), /loopback, link-local or private|WEBHOOK_ALLOW_PRIVATE/, url);
      }
      const ok = await t.client.POST('/v1/webhooks', { body: { url: 'https://93.184.216.34/hooks', event_types: ['*'], enabled: false } });
      assert.equal(ok.response.status, 201);
      const upd = await t.client.PATCH('/v1/webhooks/{webhook_id}', { params: { path: { webhook_id: ok.data!.data.id } }, body: { url: 'http://169.254.169.254/' } });
      assert.equal(upd.response.status, 400);
    });
  });
}

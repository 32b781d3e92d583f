/**
 * Webhooks end to end, with a real receiver verifying every signature with `standardwebhooks`:
 * signed delivery of the WS frame body, tampering and stale timestamps fail verification, the
 * documented retry schedule (on a fake clock, no sleeps), per-room order across retries while
 * other rooms flow, dead → disabled → replay + re-enable → delivered in order, secret rotation,
 * delivery listing, filters and the test event.
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { after, before, describe, test } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { DELAYS_MS, MAX_ATTEMPTS } from '../../src/outbox/schedule.ts';
import { backends } from '../helpers/backends.ts';
import type { ApiClient } from '../helpers/client.ts';
import { startTestServer, type TestServer, type TestTenant } from '../helpers/server.ts';
import { startReceiver, type Receiver } from '../helpers/webhook-receiver.ts';

type Validators = typeof import('../../generated/validators.cjs');
const { WebhookEvent: validateEvent } = createRequire(import.meta.url)('../../generated/validators.cjs') as Validators;

for (const backend of backends()) {
  describe(`webhooks [${backend.name}]`, () => {
    let s: TestServer;
    let t: TestTenant;
    let alice: ApiClient;
    let rx: Receiver;
    /** The worker's clock: real time plus `offset`, or `frozen` while a test steps through the schedule. */
    const clock = { frozen: null as number | null, offset: 0 };
    const now = () => clock.frozen ?? Date.now() + clock.offset;
    /** Worker rounds until nothing is due (each round tries the first due delivery of every room). */
    const run = async () => {
      while ((await s.running.outbox.runOnce()) > 0);
    };

    before(async () => {
      s = await startTestServer(backend, { webhookAllowPrivate: true }, { ws: false, outbox: { autostart: false, now, random: () => 0 } });
      t = await s.tenant();
      alice = await t.user('alice');
      await t.user('bob');
      rx = await startReceiver();
    });
    after(async () => {
      await s.close();
      await rx.close();
    });

    async function hook(body: { event_types: string[]; room_ids?: string[] }) {
      const res = await t.client.POST('/v1/webhooks', { body: { url: rx.url, ...body } });
      assert.equal(res.response.status, 201, JSON.stringify(res.error));
      const created = res.data!.data;
      assert.match(created.secret, /^whsec_/);
      rx.secrets = [created.secret];
      return created;
    }
    async function room(name: string) {
      return (await alice.POST('/v1/rooms', { body: { type: 'group', name, members: ['bob'] } })).data!.data.id;
    }
    const send = (roomId: string, content: string) => alice.POST('/v1/rooms/{room_id}/messages', { params: { path: { room_id: roomId } }, body: { content } });
    const contents = (roomId: string) => rx.ok().filter((r) => r.event.room_id === roomId && r.event.type === 'message.created')
      .map((r) => (r.event.message as { content: string }).content);

    test('deliveries are signed, carry the WS frame, and tampering or a stale timestamp fails verification', async () => {
      const wh = await hook({ event_types: ['message.*'] });
      const r1 = await room('signed');
      await send(r1, 'hello');
      await run();
      const [got] = await rx.waitForOk(1);
      assert.equal(got!.event.type, 'message.created');
      assert.ok(validateEvent(got!.event), JSON.stringify(validateEvent.errors));
      assert.match(got!.id, /^evt_/);
      const verifier = new Webhook(wh.secret);
      const headers = { 'webhook-id': got!.id, 'webhook-timestamp': got!.timestamp, 'webhook-signature': got!.signature };
      assert.deepEqual(verifier.verify(got!.body, headers), got!.event);
      assert.throws(() => verifier.verify(got!.body.replace('hello', 'hellO'), headers), /signature/i);
      const stale = String(Number(got!.timestamp) - 600);
      const staleSig = verifier.sign(got!.id, new Date(Number(stale) * 1000), got!.body);
      assert.throws(() => verifier.verify(got!.body, { ...headers, 'webhook-timestamp': stale, 'webhook-signature': staleSig }), /timestamp/i);
      assert.deepEqual(rx.rejected, []);
      await t.client.DELETE('/v1/webhooks/{webhook_id}', { params: { path: { webhook_id: wh.id } } });
    });

    test('retries follow the schedule; one room is held back, others flow; dead → replay → delivered in order', async () => {
      rx.received.length = 0;
      clock.frozen = Date.now();
      const wh = await hook({ event_types: ['message.created'] });
      const [down, up] = [await room('down'), await room('up')];
      rx.respond = (e) => (e.room_id === down ? 503 : 200);
      await send(down, 'd1');
      await send(down, 'd2');
      await send(up, 'u1');
      await run();
      const attemptsOf = (c: string) => rx.received.filter((r) => (r.event.message as { content: string }).content === c).length;
      assert.equal(attemptsOf('d1'), 1);
      assert.equal(attemptsOf('d2'), 0, 'd2 waits behind d1');
      assert.deepEqual(contents(up), ['u1'], 'another room is not held back');
      for (const [i, delay] of DELAYS_MS.entries()) {
        clock.frozen = clock.frozen! + delay - 1;
        await run();
        assert.equal(attemptsOf('d1'), i + 1, `no attempt before the ${i + 1}. delay of ${delay} ms is over`);
        clock.frozen = clock.frozen! + 1;
        await send(up, `u${i + 2}`);
        await run();
        assert.equal(attemptsOf('d1'), i + 2, `attempt ${i + 2} after ${delay} ms`);
        assert.equal(attemptsOf('d2'), 0);
      }
      assert.equal(attemptsOf('d1'), MAX_ATTEMPTS);
      assert.deepEqual(contents(up), Array.from({ length: DELAYS_MS.length + 1 }, (_, i) => `u${i + 1}`));
      const got = (await t.client.GET('/v1/webhooks/{webhook_id}', { params: { path: { webhook_id: wh.id } } })).data!.data;
      assert.equal(got.enabled, false);
      assert.match(got.disabled_reason!, /failed 11 times/);
      const dead = (await t.client.GET('/v1/webhooks/{webhook_id}/deliveries', { params: { path: { webhook_id: wh.id }, query: { status: 'dead' } } })).data!.data;
      assert.equal(dead.items.length, 1);
      assert.equal(dead.items[0]!.attempts, MAX_ATTEMPTS);
      assert.equal(dead.items[0]!.attempt_log.length, MAX_ATTEMPTS);
      assert.equal(dead.items[0]!.last_status_code, 503);

      rx.respond = () => 200;
      const since = new Date(0).toISOString();
      const until = new Date(clock.frozen! + 60_000).toISOString();
      const replay = await t.client.POST('/v1/webhooks/{webhook_id}/deliveries/replay', { params: { path: { webhook_id: wh.id } }, body: { since, until } });
      assert.equal(replay.data!.data.replayed, 1);
      await run();
      assert.equal(attemptsOf('d1'), MAX_ATTEMPTS, 'nothing is sent while the endpoint is disabled');
      const enabled = await t.client.PATCH('/v1/webhooks/{webhook_id}', { params: { path: { webhook_id: wh.id } }, body: { enabled: true } });
      assert.equal(enabled.data!.data.disabled_reason, null);
      await run();
      assert.deepEqual(contents(down), ['d1', 'd2'], 'the replayed event goes first, then the one it held back');
      const ok = (await t.client.GET('/v1/webhooks/{webhook_id}/deliveries', { params: { path: { webhook_id: wh.id }, query: { status: 'succeeded' } } })).data!.data;
      assert.equal(ok.items.length, DELAYS_MS.length + 3);
      await t.client.DELETE('/v1/webhooks/{webhook_id}', { params: { path: { webhook_id: wh.id } } });
    });

    test('a rotated secret signs alongside the old one until the grace period ends', async () => {
      rx.received.length = 0;
      clock.frozen = null; // the worker's clock against the expiry the domain (on the real clock) set
      const wh = await hook({ event_types: ['*'] });
      const rotated = (await t.client.POST('/v1/webhooks/{webhook_id}/rotate-secret', { params: { path: { webhook_id: wh.id } }, body: { grace_seconds: 60 } })).data!.data;
      assert.notEqual(rotated.secret, wh.secret);
      assert.ok(rotated.previous_secret_expires_at);
      rx.secrets = [wh.secret, rotated.secret]; // both must verify
      const test1 = await t.client.POST('/v1/webhooks/{webhook_id}/test', { params: { path: { webhook_id: wh.id } } });
      assert.equal(test1.response.status, 201);
      await run();
      assert.deepEqual(rx.rejected, []);
      assert.equal(rx.ok().at(-1)!.event.type, 'webhook.test');
      assert.equal(rx.ok().at(-1)!.signature.split(' ').length, 2);
      clock.offset += 61_000;
      rx.secrets = [rotated.secret];
      await t.client.POST('/v1/webhooks/{webhook_id}/test', { params: { path: { webhook_id: wh.id } } });
      await run();
      assert.equal(rx.ok().length, 2);
      assert.equal(rx.ok().at(-1)!.signature.split(' ').length, 1);
      assert.throws(() => new Webhook(wh.secret).verify(rx.ok().at(-1)!.body, {
        'webhook-id': rx.ok().at(-1)!.id, 'webhook-timestamp': rx.ok().at(-1)!.timestamp, 'webhook-signature': rx.ok().at(-1)!.signature,
      }));
      assert.deepEqual(rx.rejected, []);
      await t.client.DELETE('/v1/webhooks/{webhook_id}', { params: { path: { webhook_id: wh.id } } });
    });

    test('filters: event-type wildcards and rooms; deliveries can be listed, filtered and read', async () => {
      rx.received.length = 0;
      const [r1, r2] = [await room('f1'), await room('f2')];
      const wh = await hook({ event_types: ['member.*', 'message.updated'], room_ids: [r1] });
      await send(r1, 'not subscribed');
      await alice.POST('/v1/rooms/{room_id}/members', { params: { path: { room_id: r1 } }, body: { user_id: 'alice2' } }).catch(() => {});
      await t.user('carol');
      await alice.POST('/v1/rooms/{room_id}/members', { params: { path: { room_id: r1 } }, body: { user_id: 'carol' } });
      await alice.POST('/v1/rooms/{room_id}/members', { params: { path: { room_id: r2 } }, body: { user_id: 'carol' } });
      await alice.DELETE('/v1/rooms/{room_id}/members/{user_id}', { params: { path: { room_id: r1, user_id: 'carol' } } });
      await run();
      assert.deepEqual(rx.ok().map((r) => [r.event.type, r.event.room_id]), [['member.joined', r1], ['member.left', r1]]);
      const list = (await t.client.GET('/v1/webhooks/{webhook_id}/deliveries', { params: { path: { webhook_id: wh.id }, query: { event_type: 'member.left' } } })).data!.data;
      assert.equal(list.items.length, 1);
      const one = (await t.client.GET('/v1/webhooks/{webhook_id}/deliveries/{delivery_id}', { params: { path: { webhook_id: wh.id, delivery_id: list.items[0]!.id } } })).data!.data;
      assert.equal(one.status, 'succeeded');
      assert.equal(one.payload.type, 'member.left');
      assert.equal(one.attempt_log[0]!.status_code, 200);
      const again = await t.client.POST('/v1/webhooks/{webhook_id}/deliveries/{delivery_id}/replay', { params: { path: { webhook_id: wh.id, delivery_id: one.id } } });
      assert.equal(again.data!.data.status, 'pending');
      await run();
      assert.equal(rx.ok().filter((r) => r.id === one.event_id).length, 2, 'a replay is delivered again under the same webhook-id');
      const listed = (await t.client.GET('/v1/webhooks', {})).data!.data;
      assert.ok(listed.items.some((h) => h.id === wh.id && !('secret' in h)));
    });

    test('bad input answers 400; other tenants see 404', async () => {
      const bad = await t.client.POST('/v1/webhooks', { body: { url: rx.url, event_types: ['Message!'] } });
      assert.equal(bad.response.status, 400);
      const noUrl = await t.client.POST('/v1/webhooks', { body: { url: 'ftp://example.com/x', event_types: ['*'] } });
      assert.equal(noUrl.response.status, 400);
      const wh = await hook({ event_types: ['*'] });
      const other = await s.tenant('other');
      const res = await other.client.GET('/v1/webhooks/{webhook_id}', { params: { path: { webhook_id: wh.id } } });
      assert.equal(res.response.status, 404);
      const bob = t.as('bob');
      assert.equal((await bob.GET('/v1/webhooks', {})).response.status, 403);
    });
  });
}

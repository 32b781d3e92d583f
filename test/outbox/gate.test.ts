/**
 * The outbox gate (src/store/outbox.ts): an event is written to the outbox only if, when its
 * transaction commits, its tenant has an endpoint that would receive it (enabled, or disabled by
 * chatapi after failures; its event types and rooms match). So an endpoint receives the events
 * committed after it was created and none from before; tenants without endpoints write nothing.
 *
 * The race test takes the commit order from the database itself: the endpoint is inserted in a
 * transaction that also reads the tenant's feed position (MySQL: the feed_positions row, locked in
 * share mode, so no send batch can take a position until that transaction commits; SQLite: the
 * largest pk under the one writer's lock). Every message past that position committed after the
 * endpoint, and must be in the outbox and delivered; every message at or before it committed
 * before, and must not be in the outbox. A gate read without a lock (or outside the send's
 * transaction) lets a batch that read "no endpoint" commit after the endpoint, and fails it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createOutboxWorker } from '../../src/outbox/worker.ts';
import { driver, inTransaction } from '../../src/store/db.ts';
import { listEvents } from '../../src/store/outbox.ts';
import { backends } from '../helpers/backends.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { startReceiver, type Receiver } from '../helpers/webhook-receiver.ts';
import { openHarness, type DomainHarness } from '../domain/harness.ts';
import { subscribe } from './subscribe.ts';

const quiet = { warn() {}, error() {}, info() {}, debug() {} };

for (const backend of backends()) {
  describe(`outbox gate (${backend.name})`, () => {
    let h: DomainHarness;
    let rx: Receiver;
    before(async () => {
      h = await openHarness(backend);
      rx = await startReceiver();
    });
    after(async () => {
      await h?.close();
      await rx?.close();
    });

    async function tenantWithRoom() {
      const t = await h.tenant();
      const [a, b] = await Promise.all([t.user('a'), t.user('b')]);
      const { room } = await h.domain.rooms.create(a, { type: 'group', name: 'r', members: ['b'] });
      return { t, a, b, room };
    }

    test('a tenant without endpoints writes no event: sends (in a batch with a subscribed tenant), edits, deletes, receipts, presence', async () => {
      const silent = await tenantWithRoom();
      const heard = await h.tenant();
      await subscribe(h.db, heard.id);
      const [c, d] = await Promise.all([heard.user('c'), heard.user('d')]);
      const { room: heardRoom } = await h.domain.rooms.create(c, { type: 'group', members: ['d'] });
      // One batch holding both tenants' sends.
      const sends = await Promise.all([
        h.domain.messages.send(silent.a, silent.room.id, { content: 'q1' }),
        h.domain.messages.send(c, heardRoom.id, { content: 'h1' }),
        h.domain.messages.send(silent.b, silent.room.id, { content: 'q2', client_msg_id: 'k' }),
        h.domain.messages.send(d, heardRoom.id, { content: 'h2', client_msg_id: 'k' }),
      ]);
      await h.domain.messages.edit(silent.a, silent.room.id, sends[0].message.id, { content: 'q1 edited' });
      await h.domain.messages.remove(silent.a, silent.room.id, sends[0].message.id);
      await h.domain.receipts.read(silent.b, silent.room.id, { seq: 2 });
      await h.domain.userStatus.record(silent.t.id, 'a', 'online');
      await h.domain.userStatus.record(heard.id, 'c', 'online');
      assert.deepEqual(await listEvents(h.db, silent.t.id), []);
      const heardTypes = (await listEvents(h.db, heard.id)).map((r) => r.type);
      assert.deepEqual(heardTypes.filter((x) => x === 'message.created').length, 2);
      assert.ok(heardTypes.includes('user.online'));
    });

    test('endpoints their owner disabled do not count; ones chatapi disabled (deliveries waiting) do', async () => {
      const owner = await tenantWithRoom();
      await subscribe(h.db, owner.t.id, { enabled: false });
      await h.domain.messages.send(owner.a, owner.room.id, { content: 'to nobody' });
      assert.deepEqual(await listEvents(h.db, owner.t.id), []);

      const failing = await tenantWithRoom();
      await subscribe(h.db, failing.t.id, { enabled: false, disabled_reason: 'Delivery dlv_x failed 8 times' });
      await h.domain.messages.send(failing.a, failing.room.id, { content: 'kept for re-enabling' });
      assert.deepEqual((await listEvents(h.db, failing.t.id)).map((r) => r.type), ['message.created']);
    });

    test("an endpoint's event types and rooms decide which events are written", async () => {
      const x = await tenantWithRoom();
      const { room: other } = await h.domain.rooms.create(x.a, { type: 'group', name: 'other', members: ['b'] });
      await subscribe(h.db, x.t.id, { event_types: ['ticket.*'] });
      await h.domain.messages.send(x.a, x.room.id, { content: 'no message endpoint' });
      assert.deepEqual(await listEvents(h.db, x.t.id), []);
      await subscribe(h.db, x.t.id, { event_types: ['message.created'], room_ids: [x.room.id] });
      const { message } = await h.domain.messages.send(x.a, x.room.id, { content: 'in the room' });
      await h.domain.messages.send(x.a, other.id, { content: 'another room' });
      await h.domain.messages.edit(x.a, x.room.id, message.id, { content: 'an edit' });
      const rows = await listEvents(h.db, x.t.id);
      assert.deepEqual(rows.map((r) => [r.type, r.room_id, JSON.parse(r.payload).message.content]), [['message.created', x.room.id, 'in the room']]);
    });

    /** One race on a fresh tenant (the test runs three: a wrong gate loses most of them, not always all). */
    async function race() {
      const t = await h.tenant();
      const users = await Promise.all(Array.from({ length: 8 }, (_, i) => t.user(`s${i}`)));
      const rooms: string[] = [];
      for (let i = 0; i < 4; i++) rooms.push((await h.domain.rooms.create(users[0]!, { type: 'group', members: users.slice(1).map((u) => u.user.id) })).room.id);
      const mysql = driver(h.db) === 'mysql';
      let stop = false;
      let sent = 0;
      let afterEndpoint = 0;
      let endpointCommitted = false;
      const senders = users.map(async (u, i) => {
        for (let k = 0; !stop; k++) {
          await h.domain.messages.send(u, rooms[(i + k) % rooms.length]!, { content: `${u.user.id}-${k}` });
          sent++;
          if (endpointCommitted) afterEndpoint++;
        }
      });
      while (sent < 200) await new Promise((r) => setTimeout(r, 5));
      // The endpoint and the feed position at its commit, in one transaction (see the top of this file).
      const { hook, position } = await inTransaction(h.db, async (trx) => {
        const hook = await subscribe(trx, t.id, { url: rx.url, event_types: ['message.created'], created_at: h.clock.now });
        const row = mysql
          ? await trx('feed_positions').where({ tenant_id: t.id }).forShare().first('last_pos as p')
          : await trx('messages').max({ p: 'pk' }).first();
        return { hook, position: Number(row!.p) };
      });
      endpointCommitted = true;
      while (afterEndpoint < 200) await new Promise((r) => setTimeout(r, 5));
      stop = true;
      await Promise.all(senders);

      const messages = await h.db('messages').where({ tenant_id: t.id }).select('id', mysql ? 'feed_pos as p' : 'pk as p');
      const inOutbox = new Set((await listEvents(h.db, t.id, 0, 100_000)).map((r) => JSON.parse(r.payload).message.id as string));
      const later = messages.filter((m) => Number(m.p) > position).map((m) => m.id as string);
      const earlier = messages.filter((m) => Number(m.p) <= position).map((m) => m.id as string);
      assert.ok(earlier.length >= 200 && later.length >= 200, `${earlier.length} before, ${later.length} after`);
      assert.deepEqual(earlier.filter((id) => inOutbox.has(id)), [], 'committed before the endpoint, yet in the outbox');
      assert.deepEqual(later.filter((id) => !inOutbox.has(id)), [], 'committed after the endpoint, yet not in the outbox');
      assert.equal(inOutbox.size, later.length);

      // And delivered over HTTP, each once.
      rx.secrets = [hook.secret];
      const worker = createOutboxWorker({
        db: h.db, now: () => h.clock.now, log: quiet as never, timeoutMs: 5000, allowPrivate: true, leaseMs: 60_000, pollMs: 60_000, concurrency: 64,
      });
      const delivered = () => new Set(rx.ok().filter((r) => r.event.type === 'message.created' && rooms.includes(r.event.room_id!)).map((r) => (r.event.message as { id: string }).id));
      for (let round = 0; delivered().size < later.length && round < 1000; round++) await worker.runOnce();
      assert.deepEqual([...delivered()].sort(), [...later].sort());
      assert.deepEqual(rx.rejected, []);
    }

    test("by outbox position, not time: an endpoint made on a node whose clock is ahead gets the events after it; one made behind gets none from before", async () => {
      const x = await tenantWithRoom();
      const [older, ahead, behind] = await Promise.all([startReceiver(), startReceiver(), startReceiver()]);
      try {
        // An older endpoint of the tenant, so the event before the new ones is written (the gate).
        older.secrets = [(await subscribe(h.db, x.t.id, { url: older.url, event_types: ['message.created'], created_at: h.clock.now })).secret];
        await h.domain.messages.send(x.a, x.room.id, { content: 'before both' });
        // Made by nodes whose clocks run a minute ahead of and behind this one (the domain's clock).
        ahead.secrets = [(await subscribe(h.db, x.t.id, { url: ahead.url, event_types: ['message.created'], created_at: h.clock.now + 60_000 })).secret];
        behind.secrets = [(await subscribe(h.db, x.t.id, { url: behind.url, event_types: ['message.created'], created_at: h.clock.now - 60_000 })).secret];
        await h.domain.messages.send(x.a, x.room.id, { content: 'after both' });
        const worker = createOutboxWorker({
          db: h.db, now: () => h.clock.now, log: quiet as never, timeoutMs: 5000, allowPrivate: true, leaseMs: 60_000, pollMs: 60_000, concurrency: 8,
        });
        const got = (rx: Receiver) => rx.ok().map((r) => (r.event.message as { content: string }).content).sort();
        const all = () => older.ok().length + ahead.ok().length + behind.ok().length;
        for (let round = 0; all() < 4 && round < 100; round++) await worker.runOnce();
        assert.deepEqual(got(ahead), ['after both'], 'the endpoint made ahead got the event committed after it');
        assert.deepEqual(got(behind), ['after both'], 'the endpoint made behind got nothing committed before it');
        assert.deepEqual(got(older), ['after both', 'before both']);
        assert.equal(await worker.runOnce(), 0, 'nothing more is due');
        assert.equal(all(), 4);
        for (const rx of [older, ahead, behind]) assert.deepEqual(rx.rejected, []);
      } finally {
        await Promise.all([older.close(), ahead.close(), behind.close()]);
      }
    });

    test('sends racing the creation of an endpoint: every message committed after it is in the outbox and delivered, none before', async () => {
      for (let i = 0; i < 3; i++) await race();
    });
  });
}

for (const backend of backends()) {
  describe(`outbox gate through the API (${backend.name})`, () => {
    let s: TestServer;
    let rx: Receiver;
    before(async () => {
      s = await startTestServer(backend, { webhookAllowPrivate: true }, { ws: false, outbox: { autostart: false } });
      rx = await startReceiver();
    });
    after(async () => {
      await s?.close();
      await rx?.close();
    });

    test('messages sent before createWebhook are not in the outbox; those after are delivered; owner-disabled stops, re-enabled resumes', async () => {
      const t = await s.tenant();
      const alice = await t.user('alice');
      await t.user('bob');
      const roomId = (await alice.POST('/v1/rooms', { body: { type: 'group', name: 'g', members: ['bob'] } })).data!.data.id;
      const send = async (content: string) => {
        const res = await alice.POST('/v1/rooms/{room_id}/messages', { params: { path: { room_id: roomId } }, body: { content } });
        assert.equal(res.response.status, 201, JSON.stringify(res.error));
      };
      const run = async () => {
        while ((await s.running.outbox.runOnce()) > 0);
      };
      await send('before 1');
      await send('before 2');
      assert.deepEqual(await listEvents(s.running.parts.db, t.id), [], 'no endpoint: nothing written');

      const created = (await t.client.POST('/v1/webhooks', { body: { url: rx.url, event_types: ['message.*'] } })).data!.data;
      rx.secrets = [created.secret];
      await send('after 1');
      await send('after 2');
      await run();
      await rx.waitForOk(2);

      const patch = (enabled: boolean) => t.client.PATCH('/v1/webhooks/{webhook_id}', { params: { path: { webhook_id: created.id } }, body: { enabled } });
      assert.equal((await patch(false)).response.status, 200);
      await send('while disabled');
      assert.equal((await patch(true)).response.status, 200);
      await send('re-enabled');
      await run();
      await rx.waitForOk(3);
      await run();
      const contents = rx.ok().filter((r) => r.event.type === 'message.created').map((r) => (r.event.message as { content: string }).content);
      assert.deepEqual(contents, ['after 1', 'after 2', 're-enabled']);
      assert.deepEqual((await listEvents(s.running.parts.db, t.id)).map((r) => JSON.parse(r.payload).message.content), ['after 1', 'after 2', 're-enabled']);
      assert.deepEqual(rx.rejected, []);
    });
  });
}

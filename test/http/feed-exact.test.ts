/**
 * The cross-room feed (`GET /v1/messages` with `next_cursor`) is exact under concurrency (issue 7,
 * fault 1). On MariaDB, rows of different rooms commit out of insert-id order, so a cursor on the
 * insert id skipped messages that committed after a later id had already been read. Here 16
 * senders write to 16 rooms at once (through the domain's send, as REST and WS do) while a poller follows next_cursor as fast as it can; in the
 * end the poller must have seen every stored message exactly once, in cursor order.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { backends } from '../helpers/backends.ts';
import { startTestServer } from '../helpers/server.ts';
import type { ApiClient } from '../helpers/client.ts';

const ROOMS = 16;
const PER_SENDER = Number(process.env.FEED_TEST_PER_SENDER ?? 30);

/** Follows next_cursor until `done()` is true and a last page comes back empty; every message seen, in order. */
async function follow(reader: ApiClient, done: () => boolean): Promise<string[]> {
  const seen: string[] = [];
  let after: string | undefined;
  for (;;) {
    const finished = done(); // read before the page: an empty page after this means nothing is left
    const res = await reader.GET('/v1/messages', { params: { query: { limit: 200, ...(after ? { after } : {}) } } });
    assert.equal(res.response.status, 200, JSON.stringify(res.error));
    const { items, next_cursor } = res.data!.data;
    seen.push(...items.map((m) => m.id));
    after = next_cursor ?? after;
    if (finished && items.length === 0) return seen;
    if (items.length === 0) await new Promise((r) => setTimeout(r, 2)); // caught up: leave the CPU to the senders
  }
}

for (const backend of backends()) {
  describe(`cross-room feed [${backend.name}]`, () => {
    test(`16 senders in 16 rooms, ${PER_SENDER} messages each: a poller following next_cursor sees every message exactly once`, async (t) => {
      const s = await startTestServer(backend, {}, { ws: false });
      t.after(() => s.close());
      const tenant = await s.tenant();
      const reader = await tenant.user('reader');
      const senders = await Promise.all(Array.from({ length: ROOMS }, (_, i) => tenant.user(`sender${i}`)));
      const rooms = await Promise.all(senders.map(async (sender, i) => {
        const res = await sender.POST('/v1/rooms', { body: { type: 'group', name: `room ${i}`, members: ['reader'] } });
        return res.data!.data.id;
      }));

      // Sends go straight to the domain (the function REST and WS both call): the same transactions,
      // without HTTP in the way, so 16 senders really write at once; the poller reads over REST.
      const callers = await Promise.all(senders.map(async (sender) => {
        const user = (await sender.GET('/v1/me', {})).data!.data;
        return { kind: 'user' as const, tenantId: tenant.id, user, via: 'key' as const };
      }));
      const acknowledged: string[] = [];
      let sending = true;
      const polling = follow(reader, () => !sending);
      await Promise.all(callers.map(async (caller, i) => {
        for (let k = 0; k < PER_SENDER; k++) {
          const { message } = await s.running.domain.messages.send(caller, rooms[i]!, { content: `m${k}`, client_msg_id: `s${i}-${k}` });
          acknowledged.push(message.id);
        }
      }));
      sending = false;
      const seen = await polling;

      const duplicates = seen.filter((id, i) => seen.indexOf(id) !== i);
      assert.deepEqual(duplicates, [], 'no message twice');
      const seenSet = new Set(seen);
      const missed = acknowledged.filter((id) => !seenSet.has(id));
      assert.deepEqual(missed, [], `the poller missed ${missed.length} of ${acknowledged.length} acknowledged messages`);
      assert.equal(seen.length, ROOMS * PER_SENDER);
    });
  });
}

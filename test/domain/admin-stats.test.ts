/**
 * Messages per day on a fake clock: days that are over are counted once and kept
 * (message_day_counts), yesterday and today are counted live, and the 30-day window slides.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { backends } from '../helpers/backends.ts';
import { openHarness, type DomainHarness } from './harness.ts';

const DAY = 86_400_000;

for (const backend of backends()) {
  describe(`admin stats per day (${backend.name})`, () => {
    let h: DomainHarness;
    before(async () => { h = await openHarness(backend); });
    after(async () => { await h?.close(); });

    test('past days are kept, recent days live, the window slides', async () => {
      const t = await h.tenant();
      const [alice, staff] = [await t.user('alice'), await t.user('sam', 'staff')];
      const roomId = (await h.domain.rooms.create(alice, { type: 'group', name: 'r', members: [] })).room.id;
      h.clock.now = Math.floor(h.clock.now / DAY) * DAY + 12 * 3600_000; // noon UTC
      const send = () => h.domain.messages.send(alice, roomId, { content: 'x' });
      const perDay = async () => (await h.domain.admin.stats(staff)).messages_per_day.map((d) => d.count);
      h.clock.advance(-5 * DAY);
      await send(); // five days ago
      h.clock.advance(4 * DAY);
      await send(); // yesterday
      await send();
      h.clock.advance(DAY);
      await send(); // today
      const first = await perDay();
      assert.deepEqual(first.slice(-6), [1, 0, 0, 0, 2, 1]);
      await send();
      assert.deepEqual((await perDay()).slice(-3), [0, 2, 2]);
      h.clock.advance(DAY); // a day later: yesterday's 2 are now kept
      await send();
      assert.deepEqual((await perDay()).slice(-7), [1, 0, 0, 0, 2, 2, 1]);
      assert.equal((await perDay()).reduce((a, b) => a + b, 0), 6);
      h.clock.advance(26 * DAY); // five days ago is now 31 days ago: out of the window
      assert.equal((await perDay()).reduce((a, b) => a + b, 0), 5);
    });
  });
}

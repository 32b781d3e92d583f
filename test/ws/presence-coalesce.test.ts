/** Presence in bigger rooms: coalesced per room per interval (presence.batch), counted in big ones (presence.summary). */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { backends } from '../helpers/backends.ts';
import { startWorld } from './harness.ts';

const [backend] = backends(); // presence lives on the WS node; one backend is enough

describe(`ws presence in big rooms (${backend!.name})`, () => {
  test('per-user frames up to PRESENCE_BATCH_ABOVE, one batch naming many above, counts above PRESENCE_SUMMARY_ABOVE', async (t) => {
    const w = await startWorld(t, backend!, { presenceBatchAbove: 2, presenceSummaryAbove: 6, presenceCoalesceMs: 100 });
    const ids = Array.from({ length: 10 }, (_, i) => `u${i}`);
    const [owner] = await w.users(...ids);
    await w.room(owner!, ids.slice(1));
    const observer = await w.connect('u0');

    await w.connect('u1'); // audience 2: its own frame, at once
    await observer.first('presence', (f) => f.user_id === 'u1' && f.status === 'online');

    await Promise.all(['u2', 'u3', 'u4', 'u5'].map((id) => w.connect(id))); // audience 3..6: coalesced
    const named = () => observer.all('presence.batch').flatMap((f) => f.online);
    await observer.waitUntil(() => named().length >= 4);
    assert.deepEqual(named().sort(), ['u2', 'u3', 'u4', 'u5'], 'each arrival named once');
    assert.ok(observer.all('presence.batch').length < 4, 'several arrivals share a frame');
    assert.deepEqual(observer.all('presence').map((f) => f.user_id).filter((id) => id !== 'u0'), ['u1'], 'no per-user frames in the bigger room');

    await Promise.all(['u6', 'u7', 'u8', 'u9'].map((id) => w.connect(id))); // audience 7..10: counts only
    const counted = () => observer.all('presence.summary').reduce((n, f) => n + f.came_online, 0);
    await observer.waitUntil(() => counted() >= 4);
    assert.equal(counted(), 4);
    assert.equal(named().length, 4, 'nobody named any more');
  });
});

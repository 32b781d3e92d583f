// The realtime client's RoomPresence against a real WebSocket node: members named one by one in a
// small room, by `presence.batch` in a bigger one, and counted by `presence.summary` in a big one
// (thresholds lowered through the node's config), so a big room still shows who, or how many, are online.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import WebSocket from 'ws';
import { RealtimeClient, RoomPresence, type SocketFactory, type SocketLike } from '../../src/client/realtime.ts';
import { backends } from '../helpers/backends.ts';
import { startWorld } from '../ws/harness.ts';

const [backend] = backends(); // presence lives on the WS node; one backend is enough

describe(`realtime client presence in big rooms (${backend!.name})`, () => {
  test('names from presence and presence.batch, counts from presence.summary', { timeout: 20_000 }, async (t) => {
    const w = await startWorld(t, backend!, { presenceBatchAbove: 2, presenceSummaryAbove: 4, presenceCoalesceMs: 50 });
    const ids = ['u0', 'u1', 'u2', 'u3', 'u4', 'u5'];
    const [owner] = await w.users(...ids);
    const roomId = await w.room(owner!, ids.slice(1));
    const frames: string[] = [];
    const factory: SocketFactory = (url) => new WebSocket(url) as unknown as SocketLike;
    const rt = new RealtimeClient({ url: w.wsUrl, auth: { token: await w.token('u0') }, socket: factory, pingIntervalMs: 0 });
    t.after(() => rt.close());
    rt.on('frame', (f) => void frames.push(f.type));
    let changed = 0;
    const presence = new RoomPresence(rt, roomId, () => void changed++);
    const opened = new Promise<void>((resolve) => rt.on('connected', () => resolve()));
    rt.connect();
    await opened;
    const settle = (cond: () => boolean) => new Promise<void>((resolve) => {
      if (cond()) return resolve();
      // Listeners run in order: these come after RoomPresence's own, so they see its new state.
      const offs = (['presence', 'presence.batch', 'presence.summary'] as const).map((type) => rt.on(type, () => cond() && (offs.forEach((off) => off()), resolve())));
    });

    await w.connect('u1'); // audience 2: a per-user frame
    await settle(() => presence.online.has('u1'));
    await Promise.all(['u2', 'u3'].map((id) => w.connect(id))); // audience 3..4: named in batches
    await settle(() => presence.online.has('u2') && presence.online.has('u3'));
    assert.ok(frames.includes('presence.batch'), 'the bigger room named its arrivals in a batch');
    assert.equal(presence.counted, false);
    const named = presence.count;

    await Promise.all(['u4', 'u5'].map((id) => w.connect(id))); // audience 5..6: counted only
    await settle(() => presence.count >= named + 2);
    assert.ok(frames.includes('presence.summary'));
    assert.equal(presence.counted, true);
    assert.equal(presence.count, named + 2, 'the count follows the summaries');
    assert.ok(!presence.online.has('u4') && !presence.online.has('u5'), 'nobody named any more');
    assert.ok(changed > 0);
  });
});

/**
 * Moderation rules in the domain, on a fake clock (no sleeps): timed bans and mutes end exactly on
 * time, slow mode answers retry_after_ms, purges leave seq gap-free with one event, archiving,
 * room roles (a room never loses its last owner), rank rules, and tenant-wide bans.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { UserCaller } from '../../src/domain/index.ts';
import { backends } from '../helpers/backends.ts';
import { openHarness, rejectsWith, type DomainHarness } from './harness.ts';

for (const backend of backends()) {
  describe(`moderation (${backend.name})`, () => {
    let h: DomainHarness;
    let alice: UserCaller; // the room's owner
    let mia: UserCaller; // a room moderator
    let bob: UserCaller; // a member
    let sam: UserCaller; // staff (tenant-wide)
    let ada: UserCaller; // admin
    let out: UserCaller; // not in the room
    let roomId: string;
    before(async () => {
      h = await openHarness(backend);
      const t = await h.tenant();
      [alice, mia, bob, sam, ada, out] = await Promise.all([
        t.user('alice'), t.user('mia'), t.user('bob'), t.user('sam', 'staff'), t.user('ada', 'admin'), t.user('out'),
      ]);
      roomId = (await h.domain.rooms.create(alice, { type: 'group', name: 'r', members: ['bob', 'ada'] })).room.id;
      await h.domain.rooms.addMember(alice, roomId, { user_id: 'mia', role: 'moderator' });
    });
    after(async () => { await h?.close(); });
    const send = (who: UserCaller, content: string, key?: string) => h.domain.messages.send(who, roomId, { content, client_msg_id: key ?? null });

    test('a timed ban removes the member, blocks re-adding until it ends, and ends on time', async () => {
      const until = new Date(h.clock.now + 60_000).toISOString();
      const ban = await h.domain.moderation.ban(mia, roomId, { user_id: 'bob', until, reason: 'spam' });
      assert.equal(ban.until, until);
      const kinds = h.events.filter((e) => e.room_id === roomId).slice(-2).map((e) => e.type);
      assert.deepEqual(kinds, ['member.banned', 'member.left']);
      await rejectsWith(send(bob, 'still here?'), 'NOT_FOUND');
      const refused = await rejectsWith(h.domain.rooms.addMember(alice, roomId, { user_id: 'bob' }), 'AUTHORIZATION_ERROR');
      assert.match(refused.message, new RegExp(until.replace(/[.]/g, '\\.')));
      assert.deepEqual((await h.domain.moderation.listBans(alice, roomId, {})).items.map((b) => b.user_id), ['bob']);
      h.clock.advance(59_999);
      await rejectsWith(h.domain.rooms.addMember(alice, roomId, { user_id: 'bob' }), 'AUTHORIZATION_ERROR');
      h.clock.advance(1);
      assert.deepEqual((await h.domain.moderation.listBans(alice, roomId, {})).items, []);
      await h.domain.rooms.addMember(alice, roomId, { user_id: 'bob' });
      await send(bob, 'back');
    });

    test('rank rules: nobody moderates someone of equal or higher rank', async () => {
      await rejectsWith(h.domain.moderation.ban(mia, roomId, { user_id: 'alice' }), 'AUTHORIZATION_ERROR'); // moderator → owner
      await rejectsWith(h.domain.moderation.ban(sam, roomId, { user_id: 'ada' }), 'AUTHORIZATION_ERROR'); // staff → admin
      await rejectsWith(h.domain.moderation.mute(alice, roomId, { user_id: 'ada', duration_seconds: 60 }), 'AUTHORIZATION_ERROR'); // owner → admin
      await rejectsWith(h.domain.moderation.ban(bob, roomId, { user_id: 'mia' }), 'AUTHORIZATION_ERROR'); // a member has no powers
      await rejectsWith(h.domain.moderation.ban(out, roomId, { user_id: 'bob' }), 'NOT_FOUND'); // cannot even see the room
      await rejectsWith(h.domain.moderation.ban(alice, roomId, { user_id: 'alice' }), 'AUTHORIZATION_ERROR');
      // Staff moderate rooms they are not in.
      const muted = await h.domain.moderation.mute(sam, roomId, { user_id: 'bob', duration_seconds: 1 });
      assert.equal(muted.muted_by, 'sam');
      await h.domain.moderation.unmute(sam, roomId, 'bob');
    });

    test('a mute refuses sends and typing naming its end, and ends on time', async () => {
      const mute = await h.domain.moderation.mute(alice, roomId, { user_id: 'bob', duration_seconds: 30 });
      const err = await rejectsWith(send(bob, 'hello'), 'AUTHORIZATION_ERROR');
      assert.ok(err.message.includes(mute.until), err.message);
      await rejectsWith(h.domain.moderation.assertMayType(bob, roomId), 'AUTHORIZATION_ERROR');
      // Concurrent sends share a batch (group commit): the muted member's are refused, the others stored.
      const mixed = await Promise.allSettled([send(alice, 'a1'), send(bob, 'b1'), send(mia, 'm1'), send(bob, 'b2')]);
      assert.deepEqual(mixed.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled', 'rejected']);
      assert.equal((await h.domain.rooms.getMember(alice, roomId, 'bob')).muted_until, mute.until);
      h.clock.advance(30_000);
      await send(bob, 'free again');
      await h.domain.moderation.assertMayType(bob, roomId);
      assert.equal((await h.domain.rooms.getMember(alice, roomId, 'bob')).muted_until, null);
    });

    test('slow mode: retry_after_ms for members, owners exempt, repeats replay', async () => {
      await h.domain.rooms.update(alice, roomId, { slow_mode_seconds: 10 });
      const first = await send(bob, 'one', 'k1');
      h.clock.advance(4_000);
      const err = await rejectsWith(send(bob, 'two'), 'RATE_LIMIT_EXCEEDED');
      assert.equal(err.retryAfterMs, 6_000);
      const again = await send(bob, 'one', 'k1'); // an idempotent repeat is answered, not slowed down
      assert.equal(again.created, false);
      assert.equal(again.message.id, first.message.id);
      await send(alice, 'owner 1');
      await send(alice, 'owner 2');
      h.clock.advance(6_000);
      await send(bob, 'two');
      await h.domain.rooms.update(alice, roomId, { slow_mode_seconds: 0 });
      await send(bob, 'three');
    });

    test("purge tombstones a user's messages in one event; seq stays gap-free", async () => {
      await send(bob, 'spam 1');
      await send(alice, 'keep');
      await send(bob, 'spam 2');
      const before = h.events.length;
      const res = await h.domain.moderation.purge(mia, roomId, { user_id: 'bob' });
      assert.ok(res.purged >= 2);
      const purged = h.events.slice(before);
      assert.deepEqual(purged.map((e) => e.type), ['messages.purged']);
      const all = await h.domain.messages.list(alice, roomId, { after_seq: 0, limit: 200 });
      assert.deepEqual(all.items.map((m) => m.seq), all.items.map((_, i) => i + 1));
      for (const m of all.items.filter((x) => x.sender_id === 'bob')) assert.ok(m.deleted_at && m.content === '', `seq ${m.seq}`);
      assert.ok(all.items.some((m) => m.content === 'keep'));
      assert.deepEqual(res.seqs, all.items.filter((m) => m.sender_id === 'bob').map((m) => m.seq));
    });

    test('archive: no sends, out of listRooms by default, history kept; unarchive', async () => {
      await rejectsWith(h.domain.rooms.archive(bob, roomId), 'AUTHORIZATION_ERROR');
      const archived = await h.domain.rooms.archive(alice, roomId);
      assert.ok(archived.archived_at);
      await rejectsWith(send(bob, 'x'), 'CONFLICT');
      await rejectsWith(h.domain.rooms.archive(alice, roomId), 'CONFLICT');
      assert.ok(!(await h.domain.rooms.list(bob, {})).items.some((r) => r.id === roomId));
      assert.ok((await h.domain.rooms.list(bob, {}, { includeArchived: true })).items.some((r) => r.id === roomId));
      assert.ok((await h.domain.messages.list(bob, roomId, {})).items.length > 0);
      await h.domain.rooms.unarchive(alice, roomId);
      await send(bob, 'open again');
    });

    test('room roles: owners only, and never without an owner', async () => {
      await rejectsWith(h.domain.rooms.updateMember(mia, roomId, 'bob', { role: 'moderator' }), 'AUTHORIZATION_ERROR');
      await rejectsWith(h.domain.rooms.updateMember(alice, roomId, 'alice', { role: 'member' }), 'CONFLICT');
      assert.equal((await h.domain.rooms.updateMember(alice, roomId, 'mia', { role: 'owner' })).role, 'owner');
      assert.equal((await h.domain.rooms.updateMember(alice, roomId, 'alice', { role: 'moderator' })).role, 'moderator');
      await rejectsWith(h.domain.rooms.updateMember(mia, roomId, 'mia', { role: 'member' }), 'CONFLICT');
      await rejectsWith(h.domain.rooms.getMember(out, roomId, 'bob'), 'NOT_FOUND');
    });

    test('a tenant-wide ban stops credentials until it ends', async () => {
      const t = await h.tenant('banned tenant');
      const admin = await t.user('boss', 'admin');
      const staff = await t.user('st', 'staff');
      await t.user('eve');
      const token = (await h.domain.tokens.mint(t.caller, 'eve', { ttl_seconds: 86_400 })).token;
      await rejectsWith(h.domain.moderation.banUser(staff, 'eve', {}), 'AUTHORIZATION_ERROR');
      await rejectsWith(h.domain.moderation.banUser(admin, 'boss', {}), 'AUTHORIZATION_ERROR');
      const until = new Date(h.clock.now + 3_600_000).toISOString();
      await h.domain.moderation.banUser(admin, 'eve', { until, reason: 'abuse' });
      assert.equal(h.events.at(-1)?.type, 'user.banned');
      assert.equal(await h.domain.moderation.isUserBanned(t.id, 'eve'), true);
      assert.equal(await h.domain.users.resolve(t.id, 'eve'), null);
      await rejectsWith(h.domain.tokens.verify(token), 'AUTHENTICATION_ERROR');
      await rejectsWith(h.domain.tokens.mint(t.caller, 'eve', {}), 'AUTHORIZATION_ERROR');
      h.clock.advance(3_600_000);
      assert.equal(await h.domain.moderation.isUserBanned(t.id, 'eve'), false);
      assert.equal((await h.domain.tokens.verify(token)).user.id, 'eve');
      await h.domain.moderation.banUser(t.caller, 'eve', {});
      assert.equal(await h.domain.moderation.isUserBanned(t.id, 'eve'), true);
      await h.domain.moderation.unbanUser(admin, 'eve');
      assert.ok(await h.domain.users.resolve(t.id, 'eve'));
    });
  });
}

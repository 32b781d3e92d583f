/**
 * QA: what happens around deletions, key rotation, tombstones, retries and concurrent receipts,
 * seen through the validating client the way an integrator would meet it.
 */
import { describe, before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import { backends } from '../helpers/backends.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import type { ApiClient } from '../helpers/client.ts';
import { closeDatabase, openDatabase } from '../../src/store/db.ts';

async function newRoom(owner: ApiClient, members: string[], name = 'room'): Promise<string> {
  const res = await owner.POST('/v1/rooms', { body: { type: 'group', name, members } });
  assert.equal(res.response.status, 201, JSON.stringify(res.error));
  return res.data!.data.id;
}

const send = (c: ApiClient, roomId: string, content: string, key?: string) =>
  c.POST('/v1/rooms/{room_id}/messages', {
    params: { path: { room_id: roomId }, header: key ? { 'Idempotency-Key': key } : {} },
    body: { content },
  });

const room = (c: ApiClient, roomId: string) => c.GET('/v1/rooms/{room_id}', { params: { path: { room_id: roomId } } });

for (const backend of backends()) {
  describe(`qa: lifecycle [${backend.name}]`, () => {
    let s: TestServer;
    before(async () => { s = await startTestServer(backend, {}, { ws: false }); });
    after(() => s.close());

    test('deleting a user who owns rooms hands each room to a moderator (else the longest-standing member)', async () => {
      const t = await s.tenant();
      const [owner, mod, early, late] = await Promise.all(['owner', 'mod', 'early', 'late'].map((id) => t.user(id)));
      const withMod = await newRoom(owner!, ['early'], 'with moderator');
      for (const [user_id, role] of [['late', 'member'], ['mod', 'moderator']] as const) {
        const add = await owner!.POST('/v1/rooms/{room_id}/members', { params: { path: { room_id: withMod } }, body: { user_id, role } });
        assert.equal(add.response.status, 201, JSON.stringify(add.error));
      }
      const membersOnly = await newRoom(owner!, ['early', 'late'], 'members only');
      assert.equal((await send(owner!, withMod, 'before I go')).response.status, 201);

      const del = await t.client.DELETE('/v1/users/{user_id}', { params: { path: { user_id: 'owner' } } });
      assert.equal(del.response.status, 200, JSON.stringify(del.error));

      const roles = async (c: ApiClient, id: string) => Object.fromEntries((await room(c, id)).data!.data.members.map((m) => [m.user_id, m.role]));
      assert.deepEqual(await roles(mod!, withMod), { mod: 'owner', early: 'member', late: 'member' });
      assert.deepEqual(await roles(early!, membersOnly), { early: 'owner', late: 'member' });
      // The new owners can do what only an owner can: the room is not stranded.
      const rename = await mod!.PATCH('/v1/rooms/{room_id}', { params: { path: { room_id: withMod } }, body: { name: 'renamed' } });
      assert.equal(rename.response.status, 200, JSON.stringify(rename.error));
      const gone = await early!.DELETE('/v1/rooms/{room_id}', { params: { path: { room_id: membersOnly } } });
      assert.equal(gone.response.status, 200, JSON.stringify(gone.error));
      // History stays, with the deleted sender's id.
      const history = await late!.GET('/v1/rooms/{room_id}/messages', { params: { path: { room_id: withMod } } });
      assert.deepEqual(history.data!.data.items.map((m) => [m.sender_id, m.content]), [['owner', 'before I go']]);
    });

    test('a room whose last member is deleted is removed; a DM keeps the remaining participant', async () => {
      const t = await s.tenant();
      const [solo, a, b] = await Promise.all(['solo', 'a', 'b'].map((id) => t.user(id)));
      const lonely = await newRoom(solo!, [], 'just me');
      assert.equal((await send(solo!, lonely, 'echo')).response.status, 201);
      const dm = await a!.POST('/v1/rooms', { body: { type: 'dm', members: ['b'] } });
      const dmId = dm.data!.data.id;
      for (const id of ['solo', 'a']) {
        assert.equal((await t.client.DELETE('/v1/users/{user_id}', { params: { path: { user_id: id } } })).response.status, 200);
      }
      const db = await openDatabase(s.config.databaseUrl);
      try {
        assert.equal((await db('rooms').where({ id: lonely })).length, 0, 'the empty room is gone');
        assert.equal((await db('messages').where({ room_id: lonely })).length, 0);
      } finally {
        await closeDatabase(db);
      }
      const seen = await room(b!, dmId);
      assert.equal(seen.response.status, 200);
      assert.deepEqual(seen.data!.data.members.map((m) => m.user_id), ['b']);
    });

    test('deleting a tenant removes every row it owns, tokens included, and leaves other tenants alone', async () => {
      const doomed = await s.tenant('doomed');
      const kept = await s.tenant('kept');
      for (const t of [doomed, kept]) {
        const [a] = await Promise.all([t.user('a'), t.user('b')]);
        const r = await newRoom(a!, ['b']);
        assert.equal((await send(a!, r, 'hello', 'k')).response.status, 201);
        assert.equal((await t.client.POST('/v1/users/{user_id}/tokens', { params: { path: { user_id: 'a' } }, body: {} })).response.status, 201);
      }
      const del = await s.master.DELETE('/v1/tenants/{tenant_id}', { params: { path: { tenant_id: doomed.id } } });
      assert.equal(del.response.status, 200);
      const db = await openDatabase(s.config.databaseUrl);
      try {
        const count = async (table: string, tenantId: string) =>
          Number(((await db(table).where(table === 'tenants' ? { id: tenantId } : { tenant_id: tenantId }).count({ n: '*' })) as { n: number }[])[0]!.n);
        for (const table of ['tenants', 'users', 'user_tokens', 'rooms', 'room_members', 'messages']) {
          assert.equal(await count(table, doomed.id), 0, `${table} of the deleted tenant`);
          assert.ok((await count(table, kept.id)) > 0, `${table} of the other tenant`);
        }
      } finally {
        await closeDatabase(db);
      }
      assert.equal((await s.client(doomed.headers('a')).GET('/v1/me')).response.status, 401);
      assert.equal((await s.client(kept.headers('a')).GET('/v1/me')).response.status, 200);
    });

    test('rotating the key while requests are in flight: each answers 200 or 401, none 500; afterwards only the new key works', async () => {
      const t = await s.tenant();
      await t.user('alice');
      const old = t.client;
      const [results, rotated] = await Promise.all([
        Promise.all(Array.from({ length: 20 }, () => old.GET('/v1/users', {}))),
        s.master.POST('/v1/tenants/{tenant_id}/keys', { params: { path: { tenant_id: t.id } } }),
      ]);
      for (const r of results) assert.ok(r.response.status === 200 || r.response.status === 401, String(r.response.status));
      const fresh = rotated.data!.data.api_key;
      assert.equal((await old.GET('/v1/users', {})).response.status, 401);
      assert.equal((await s.client({ 'X-API-Key': fresh }).GET('/v1/users', {})).response.status, 200);
    });

    test('user tokens survive a key rotation (they are signed with the tenant\'s token secret, not its API key)', async () => {
      const t = await s.tenant();
      await t.user('alice');
      const minted = await t.client.POST('/v1/users/{user_id}/tokens', { params: { path: { user_id: 'alice' } }, body: {} });
      const bearer = s.client({ Authorization: `Bearer ${minted.data!.data.token}` });
      assert.equal((await s.master.POST('/v1/tenants/{tenant_id}/keys', { params: { path: { tenant_id: t.id } } })).response.status, 201);
      const me = await bearer.GET('/v1/me');
      assert.equal(me.response.status, 200, JSON.stringify(me.error));
      assert.equal(me.data!.data.id, 'alice');
      // Revocation is how a tenant cuts a token off, and it still works after the rotation.
      const revoke = await s.client({ 'X-API-Key': (await s.master.POST('/v1/tenants/{tenant_id}/keys', { params: { path: { tenant_id: t.id } } })).data!.data.api_key })
        .DELETE('/v1/users/{user_id}/tokens/{token_id}', { params: { path: { user_id: 'alice', token_id: minted.data!.data.token_id } } });
      assert.equal(revoke.response.status, 200, JSON.stringify(revoke.error));
      assert.equal((await bearer.GET('/v1/me')).response.status, 401);
    });

    test('a token for a deleted user is 401 and stays dead if the user id is created again', async () => {
      const t = await s.tenant();
      await t.user('ghost');
      const minted = await t.client.POST('/v1/users/{user_id}/tokens', { params: { path: { user_id: 'ghost' } }, body: {} });
      const bearer = s.client({ Authorization: `Bearer ${minted.data!.data.token}` });
      await t.client.DELETE('/v1/users/{user_id}', { params: { path: { user_id: 'ghost' } } });
      assert.equal((await bearer.GET('/v1/me')).response.status, 401);
      await t.user('ghost');
      assert.equal((await bearer.GET('/v1/me')).response.status, 401);
    });

    test('tombstones: delete is idempotent, editing one is 409, a retried send returns the tombstone, seq stays', async () => {
      const t = await s.tenant();
      const [alice, bob] = await Promise.all([t.user('alice'), t.user('bob')]);
      const r = await newRoom(alice!, ['bob']);
      const sent = await send(alice!, r, 'regret', 'once');
      const path = { room_id: r, message_id: sent.data!.data.id };
      const first = await alice!.DELETE('/v1/rooms/{room_id}/messages/{message_id}', { params: { path } });
      const second = await alice!.DELETE('/v1/rooms/{room_id}/messages/{message_id}', { params: { path } });
      assert.equal(first.response.status, 200);
      assert.deepEqual(second.data!.data, first.data!.data, 'deleting twice changes nothing');
      assert.equal(first.data!.data.content, '');
      assert.ok(first.data!.data.deleted_at);
      const edit = await alice!.PATCH('/v1/rooms/{room_id}/messages/{message_id}', { params: { path }, body: { content: 'zombie' } });
      assert.equal(edit.response.status, 409);
      assert.equal(edit.error!.error.code, 'CONFLICT');
      const retry = await send(alice!, r, 'regret', 'once');
      assert.equal(retry.response.status, 200);
      assert.deepEqual(retry.data!.data, first.data!.data, 'the retry returns the tombstone, not a new copy');
      assert.equal((await send(bob!, r, 'next')).data!.data.seq, 2);
      const byBob = await bob!.DELETE('/v1/rooms/{room_id}/messages/{message_id}', { params: { path } });
      assert.equal(byBob.response.status, 403, 'even a tombstone is only deletable by those allowed');
    });

    test('an Idempotency-Key is scoped to its room and sender: reused elsewhere it stores a new message', async () => {
      const t = await s.tenant();
      const [alice, bob] = await Promise.all([t.user('alice'), t.user('bob')]);
      const r1 = await newRoom(alice!, ['bob'], 'one');
      const r2 = await newRoom(alice!, ['bob'], 'two');
      const a1 = await send(alice!, r1, 'same', 'shared-key');
      const a2 = await send(alice!, r2, 'same', 'shared-key');
      const b1 = await send(bob!, r1, 'same', 'shared-key');
      for (const r of [a1, a2, b1]) assert.equal(r.response.status, 201, JSON.stringify(r.error));
      assert.equal(new Set([a1, a2, b1].map((r) => r.data!.data.id)).size, 3);
      assert.deepEqual([a1, a2, b1].map((r) => r.data!.data.seq), [1, 1, 2]);
      const conflict = await send(alice!, r2, 'different', 'shared-key');
      assert.equal(conflict.response.status, 409);
    });

    test('concurrent read and ack calls in any order end at the highest of each; delivered never trails read', async () => {
      const t = await s.tenant();
      const [alice, bob] = await Promise.all([t.user('alice'), t.user('bob')]);
      const r = await newRoom(alice!, ['bob']);
      for (let i = 0; i < 10; i++) assert.equal((await send(alice!, r, `m${i}`)).response.status, 201);
      const seqs = [7, 3, 10, 1, 9, 2, 8, 4, 6, 5];
      const calls = seqs.map((seq, i) =>
        i % 2 === 0
          ? bob!.POST('/v1/rooms/{room_id}/read', { params: { path: { room_id: r } }, body: { seq: Math.min(seq, 8) } })
          : bob!.POST('/v1/acks', { body: { room_id: r, seq } }),
      );
      const results = await Promise.all(calls);
      for (const res of results) {
        assert.equal(res.response.status, 200, JSON.stringify(res.error));
        assert.ok(res.data!.data.delivered_seq >= res.data!.data.read_seq);
      }
      const me = (await room(bob!, r)).data!.data.members.find((m) => m.user_id === 'bob')!;
      const expectRead = Math.max(...seqs.filter((_, i) => i % 2 === 0).map((x) => Math.min(x, 8)));
      assert.deepEqual([me.delivered_seq, me.read_seq], [Math.max(...seqs.filter((_, i) => i % 2 === 1), expectRead), expectRead]);
      assert.equal((await room(bob!, r)).data!.data.unread_count, 10 - expectRead);
    });
  });
}

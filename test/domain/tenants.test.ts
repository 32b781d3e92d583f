import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Caller } from '../../src/domain/index.ts';
import { backends } from '../helpers/backends.ts';
import { openHarness, rejectsWith, type DomainHarness } from './harness.ts';
import { defaultAuthSettings } from '../../src/domain/auth-settings.ts';

for (const backend of backends()) {
  describe(`tenants and isolation (${backend.name})`, () => {
    let h: DomainHarness;
    before(async () => { h = await openHarness(backend); });
    after(async () => { await h?.close(); });

    test('create returns the key once, stores only its hash; rotate replaces it', async () => {
      const { tenant, api_key } = await h.domain.tenants.create({ name: ' Acme ' });
      assert.match(api_key, /^ck_[A-Za-z0-9_-]{43}$/);
      assert.equal(tenant.name, 'Acme');
      assert.deepEqual(tenant.settings, {
        rate_limit_per_second: 100, rate_limit_burst: 100, default_token_ttl_seconds: 3600, max_token_ttl_seconds: 2592000, allowed_origins: [], ticket_categories: [],
        auth: defaultAuthSettings(),
      });
      assert.deepEqual(tenant.settings.auth.flows, { password: false, guest: false, email_code: false, invites: false }, 'every sign-in flow starts off');
      const row = await h.db('tenants').where({ id: tenant.id }).first();
      assert.notEqual(row.api_key_hash, api_key);
      assert.equal(JSON.stringify(row).includes(api_key), false);
      assert.equal((await h.domain.tenants.authenticateKey(api_key))?.id, tenant.id);
      const rotated = await h.domain.tenants.rotateKey(tenant.id);
      assert.notEqual(rotated.api_key, api_key);
      assert.equal(await h.domain.tenants.authenticateKey(api_key), null);
      assert.equal((await h.domain.tenants.authenticateKey(rotated.api_key))?.id, tenant.id);
      for (const bad of ['', 'ck_nope', 'x'.repeat(500)]) assert.equal(await h.domain.tenants.authenticateKey(bad), null);
    });

    test('settings are checked and merged field by field', async () => {
      const { tenant } = await h.domain.tenants.create({ name: 'S', settings: { rate_limit_per_second: 5 } });
      assert.equal(tenant.settings.rate_limit_per_second, 5);
      const updated = await h.domain.tenants.update(tenant.id, { settings: { allowed_origins: ['https://app.example.com'] } });
      assert.deepEqual([updated.settings.rate_limit_per_second, updated.settings.allowed_origins], [5, ['https://app.example.com']]);
      assert.deepEqual(await h.domain.tenants.get(tenant.id), updated);
      const bad = [{ rate_limit_burst: 0 }, { max_token_ttl_seconds: 10 }, { default_token_ttl_seconds: 2592001 }, { allowed_origins: 'x' }, { unknown: 1 }];
      for (const settings of bad) await rejectsWith(h.domain.tenants.update(tenant.id, { settings: settings as never }), 'VALIDATION_ERROR');
      await rejectsWith(h.domain.tenants.create({ name: '  ' }), 'VALIDATION_ERROR');
      await rejectsWith(h.domain.tenants.get('missing'), 'NOT_FOUND');
      await rejectsWith(h.domain.tenants.update('missing', { name: 'x' }), 'NOT_FOUND');
      await rejectsWith(h.domain.tenants.rotateKey('missing'), 'NOT_FOUND');
      await rejectsWith(h.domain.tenants.remove('missing'), 'NOT_FOUND');
    });

    test('list pages through every tenant, oldest first', async () => {
      const made: string[] = [];
      for (let i = 0; i < 5; i++) {
        made.push((await h.domain.tenants.create({ name: `page ${i}` })).tenant.id);
        h.clock.advance(1);
      }
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await h.domain.tenants.list({ limit: 2, cursor });
        seen.push(...page.items.map((t) => t.id));
        cursor = page.next_cursor ?? undefined;
      } while (cursor);
      assert.deepEqual(seen.filter((id) => made.includes(id)), made);
    });

    test("tenant B sees none of tenant A's users, rooms, messages or tokens", async () => {
      const a = await h.tenant('A');
      const b = await h.tenant('B');
      const alice = await a.user('alice');
      await a.user('bob');
      const { room } = await h.domain.rooms.create(alice, { type: 'group', members: ['bob'] });
      const { message } = await h.domain.messages.send(alice, room.id, { content: 'secret' });
      const token = await h.domain.tokens.mint(a.caller, 'alice', {});
      // B has a user with the same id: ids are per tenant, and must still not reach A's data.
      const mallory = await b.user('alice');
      const asB: Caller[] = [b.caller, mallory];
      for (const caller of asB) {
        await rejectsWith(h.domain.users.get(caller, 'bob'), 'NOT_FOUND');
        await rejectsWith(h.domain.users.update(b.caller, 'bob', { display_name: 'x' }), 'NOT_FOUND');
        await rejectsWith(h.domain.users.remove(b.caller, 'bob'), 'NOT_FOUND');
        await rejectsWith(h.domain.tokens.mint(b.caller, 'bob', {}), 'NOT_FOUND');
        await rejectsWith(h.domain.tokens.revoke(caller, token.token_id), 'NOT_FOUND');
        assert.deepEqual((await h.domain.users.list(caller, {})).items.map((u) => u.id), ['alice']);
      }
      await rejectsWith(h.domain.rooms.get(mallory, room.id), 'NOT_FOUND');
      await rejectsWith(h.domain.rooms.listMembers(mallory, room.id), 'NOT_FOUND');
      await rejectsWith(h.domain.rooms.addMember(mallory, room.id, { user_id: 'alice' }), 'NOT_FOUND');
      await rejectsWith(h.domain.messages.get(mallory, room.id, message.id), 'NOT_FOUND');
      await rejectsWith(h.domain.messages.send(mallory, room.id, { content: 'x' }), 'NOT_FOUND');
      await rejectsWith(h.domain.messages.remove(mallory, room.id, message.id), 'NOT_FOUND');
      await rejectsWith(h.domain.receipts.ack(mallory, { room_id: room.id, seq: 1 }), 'NOT_FOUND');
      assert.deepEqual((await h.domain.rooms.list(mallory, {})).items, []);
      assert.deepEqual((await h.domain.messages.listAfter(mallory, {})).items, []);
      assert.deepEqual(await h.domain.rooms.roomsOfUser(b.id, 'alice'), []);
      await rejectsWith(h.domain.rooms.create(mallory, { type: 'dm', members: ['bob'] }), 'VALIDATION_ERROR');
    });

    test('deleting a tenant removes everything in it and stops its key', async () => {
      const t = await h.tenant('doomed');
      const alice = await t.user('alice');
      await t.user('bob');
      const { room } = await h.domain.rooms.create(alice, { type: 'dm', members: ['bob'] });
      await h.domain.messages.send(alice, room.id, { content: 'bye' });
      await h.domain.tenants.remove(t.id);
      assert.equal(await h.domain.tenants.authenticateKey(t.apiKey), null);
      for (const table of ['users', 'rooms', 'room_members', 'messages', 'user_tokens']) {
        assert.equal((await h.db(table).where({ tenant_id: t.id })).length, 0, table);
      }
    });
  });
}

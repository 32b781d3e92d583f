/**
 * QA: a user deleted while another call still uses them. The call must end in a catalogue error
 * (NOT_FOUND / VALIDATION_ERROR) or succeed, never in a raw foreign-key failure (a 500 over REST).
 * On SQLite the single connection interleaves the two calls the same way every time, and that
 * way is the losing one (the delete lands between the other call's read and its insert).
 */
import { describe, before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import { backends } from '../helpers/backends.ts';
import { DomainError } from '../../src/domain/errors.ts';
import { openHarness, type DomainHarness } from './harness.ts';

function settledOk(r: PromiseSettledResult<unknown>, allowed: string[], what: string) {
  if (r.status === 'fulfilled') return;
  assert.ok(r.reason instanceof DomainError, `${what} failed with a raw error: ${String(r.reason)}`);
  assert.ok(allowed.includes(r.reason.code), `${what}: ${r.reason.code}`);
}

for (const backend of backends()) {
  describe(`qa: calls racing a user delete [${backend.name}]`, () => {
    let h: DomainHarness;
    before(async () => { h = await openHarness(backend); });
    after(() => h.close());

    test('minting a token for a user being deleted is NOT_FOUND or a token that no longer verifies', async () => {
      const t = await h.tenant();
      for (let i = 0; i < 5; i++) {
        await t.user(`u${i}`);
        const [minted, removed] = await Promise.allSettled([h.domain.tokens.mint(t.caller, `u${i}`, {}), h.domain.users.remove(t.caller, `u${i}`)]);
        settledOk(minted, ['NOT_FOUND'], 'mint');
        assert.equal(removed.status, 'fulfilled');
        if (minted.status === 'fulfilled') await assert.rejects(h.domain.tokens.verify(minted.value.token));
      }
    });

    test('creating a room with a member being deleted is a VALIDATION_ERROR naming them, or a room without them', async () => {
      const t = await h.tenant();
      const owner = await t.user('owner');
      for (let i = 0; i < 5; i++) {
        await t.user(`v${i}`);
        const type = i % 2 === 0 ? 'group' : 'dm';
        const [created, removed] = await Promise.allSettled([
          h.domain.rooms.create(owner, { type, members: [`v${i}`] }),
          h.domain.users.remove(t.caller, `v${i}`),
        ]);
        settledOk(created, ['VALIDATION_ERROR'], `create ${type}`);
        assert.equal(removed.status, 'fulfilled');
        if (created.status === 'rejected') assert.match((created.reason as DomainError).message, new RegExp(`v${i}`));
      }
    });
  });
}

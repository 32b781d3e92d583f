import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { decodeJwt, decodeProtectedHeader, SignJWT } from 'jose';
import { backends } from '../helpers/backends.ts';
import { config, openHarness, rejectsWith, type DomainHarness, type TestTenant } from './harness.ts';

for (const backend of backends()) {
  describe(`user tokens (${backend.name})`, () => {
    let h: DomainHarness;
    before(async () => { h = await openHarness(backend); });
    after(async () => { await h?.close(); });

    async function tenantWithUser(): Promise<TestTenant> {
      const t = await h.tenant();
      await t.user('alice');
      return t;
    }

    /** Signs claims with the tenant's real secret, to test everything but the signature. */
    async function forge(t: TestTenant, claims: Record<string, unknown>, opts: { alg?: string; iss?: string; expIn?: number } = {}) {
      const { jwt_secret } = await h.db('tenants').where({ id: t.id }).first('jwt_secret');
      const iat = Math.floor(h.clock.now / 1000);
      return new SignJWT({ tid: t.id, ...claims })
        .setProtectedHeader({ alg: opts.alg ?? 'HS256' })
        .setIssuer(opts.iss ?? config.jwtIssuer)
        .setSubject('alice')
        .setIssuedAt(iat)
        .setExpirationTime(iat + (opts.expIn ?? 600))
        .sign(Buffer.from(jwt_secret, 'base64url'));
    }

    test('mint: HS256 with iss, sub, tid, jti, exp; verify returns tenant, user and token id', async () => {
      const t = await tenantWithUser();
      const minted = await h.domain.tokens.mint(t.caller, 'alice', {});
      assert.equal(decodeProtectedHeader(minted.token).alg, 'HS256');
      const claims = decodeJwt(minted.token);
      assert.deepEqual([claims.iss, claims.sub, claims.tid, claims.jti], [config.jwtIssuer, 'alice', t.id, minted.token_id]);
      assert.equal(claims.exp! - claims.iat!, 3600); // the default lifetime
      assert.equal(Date.parse(minted.expires_at), claims.exp! * 1000);
      const v = await h.domain.tokens.verify(minted.token);
      assert.deepEqual([v.tenant.id, v.user.id, v.tokenId], [t.id, 'alice', minted.token_id]);
      assert.equal('jwt_secret' in v.tenant, false);
    });

    test('lifetime is capped by the tenant setting; only the tenant key mints', async () => {
      const t = await tenantWithUser();
      await h.domain.tenants.update(t.id, { settings: { max_token_ttl_seconds: 7200, default_token_ttl_seconds: 600 } });
      const claims = decodeJwt((await h.domain.tokens.mint(t.caller, 'alice', {})).token);
      assert.equal(claims.exp! - claims.iat!, 600);
      await h.domain.tokens.mint(t.caller, 'alice', { ttl_seconds: 7200 });
      const err = await rejectsWith(h.domain.tokens.mint(t.caller, 'alice', { ttl_seconds: 7201 }), 'VALIDATION_ERROR');
      assert.equal(err.details[0]?.field, 'ttl_seconds');
      await rejectsWith(h.domain.tokens.mint(t.caller, 'nobody', {}), 'NOT_FOUND');
      const alice = { kind: 'user' as const, tenantId: t.id, user: await h.domain.users.get(t.caller, 'alice'), via: 'key' as const };
      await rejectsWith(h.domain.tokens.mint(alice, 'alice', {}), 'AUTHORIZATION_ERROR');
    });

    test('expired, tampered, revoked, wrong algorithm or issuer → AUTHENTICATION_ERROR', async () => {
      const t = await tenantWithUser();
      const minted = await h.domain.tokens.mint(t.caller, 'alice', { ttl_seconds: 60 });
      const expect = async (token: string, pattern: RegExp) => assert.match((await rejectsWith(h.domain.tokens.verify(token), 'AUTHENTICATION_ERROR')).message, pattern);

      const [head, body, sig] = minted.token.split('.');
      const otherBody = Buffer.from(JSON.stringify({ ...decodeJwt(minted.token), sub: 'mallory' })).toString('base64url');
      await expect(`${head}.${otherBody}.${sig}`, /signature/);
      await expect(`${head}.${body}.${sig!.slice(0, -4)}AAAA`, /signature/);
      await expect('not a jwt', /malformed/);
      await expect(`${Buffer.from('{"alg":"none"}').toString('base64url')}.${body}.`, /algorithm/);
      await expect(await forge(t, { jti: minted.token_id }, { alg: 'HS512' }), /algorithm/);
      await expect(await forge(t, { jti: minted.token_id }, { iss: 'someone-else' }), /iss/);
      await expect(await forge(t, { jti: 'never-minted' }), /not known/);
      await expect(await forge(t, { jti: minted.token_id, tid: 'no-such-tenant' }), /tenant/);

      h.clock.advance(61_000);
      await expect(minted.token, /expired/);
      h.clock.advance(-61_000);
      await h.domain.tokens.verify(minted.token);
      await h.domain.tokens.revoke(t.caller, minted.token_id);
      await expect(minted.token, /revoked/);
    });

    test('tokens verified in the same turn (one batched read) each get their own outcome', async () => {
      const a = await tenantWithUser();
      const b = await tenantWithUser();
      await a.user('bob');
      const [good, revoked, bobs, other] = await Promise.all([
        h.domain.tokens.mint(a.caller, 'alice', {}), h.domain.tokens.mint(a.caller, 'alice', {}),
        h.domain.tokens.mint(a.caller, 'bob', {}), h.domain.tokens.mint(b.caller, 'alice', {}),
      ]);
      await h.domain.tokens.revoke(a.caller, revoked.token_id);
      const outcomes = await Promise.allSettled([good, revoked, bobs, other, good].map((m) => h.domain.tokens.verify(m.token)));
      const summary = outcomes.map((o) => (o.status === 'fulfilled' ? `${o.value.tenant.id}/${o.value.user.id}/${o.value.tokenId}` : o.reason.message));
      assert.deepEqual(summary, [
        `${a.id}/alice/${good.token_id}`, 'Token has been revoked', `${a.id}/bob/${bobs.token_id}`, `${b.id}/alice/${other.token_id}`, `${a.id}/alice/${good.token_id}`,
      ]);
    });

    test('a token without an issuer is refused', async () => {
      const t = await tenantWithUser();
      const minted = await h.domain.tokens.mint(t.caller, 'alice', {});
      const { jwt_secret } = await h.db('tenants').where({ id: t.id }).first('jwt_secret');
      const iat = Math.floor(h.clock.now / 1000);
      const noIss = await new SignJWT({ tid: t.id }).setProtectedHeader({ alg: 'HS256' }).setSubject('alice').setJti(minted.token_id)
        .setIssuedAt(iat).setExpirationTime(iat + 600).sign(Buffer.from(jwt_secret, 'base64url'));
      assert.match((await rejectsWith(h.domain.tokens.verify(noIss), 'AUTHENTICATION_ERROR')).message, /iss/);
    });

    test('a token is bound to its tenant', async () => {
      const a = await tenantWithUser();
      const b = await tenantWithUser(); // also has an "alice"
      const minted = await h.domain.tokens.mint(a.caller, 'alice', {});
      const { jwt_secret } = await h.db('tenants').where({ id: a.id }).first('jwt_secret');
      // Re-point the token at tenant B, signed with A's secret: B's secret does not verify it.
      const claims = decodeJwt(minted.token);
      const moved = await new SignJWT({ ...claims, tid: b.id }).setProtectedHeader({ alg: 'HS256' }).sign(Buffer.from(jwt_secret, 'base64url'));
      await rejectsWith(h.domain.tokens.verify(moved), 'AUTHENTICATION_ERROR');
      await rejectsWith(h.domain.tokens.revoke(b.caller, minted.token_id), 'NOT_FOUND');
      await h.domain.tenants.remove(a.id);
      await rejectsWith(h.domain.tokens.verify(minted.token), 'AUTHENTICATION_ERROR');
    });

    test('revoke: the tenant key any token, a user only their own', async () => {
      const t = await tenantWithUser();
      await t.user('bob');
      const [alice, bob] = await Promise.all(['alice', 'bob'].map(async (id) => ({ kind: 'user' as const, tenantId: t.id, user: await h.domain.users.get(t.caller, id), via: 'token' as const })));
      const aliceToken = await h.domain.tokens.mint(t.caller, 'alice', {});
      await rejectsWith(h.domain.tokens.revoke(bob!, aliceToken.token_id), 'NOT_FOUND');
      await rejectsWith(h.domain.tokens.revoke(alice!, aliceToken.token_id, 'bob'), 'NOT_FOUND');
      await h.domain.tokens.revoke(alice!, aliceToken.token_id, 'alice');
      await h.domain.tokens.revoke(t.caller, aliceToken.token_id); // again: harmless
      await rejectsWith(h.domain.tokens.verify(aliceToken.token), 'AUTHENTICATION_ERROR');
      await rejectsWith(h.domain.tokens.revoke(t.caller, 'no-such-token'), 'NOT_FOUND');
    });
  });
}

/**
 * A request that fails its operation's security never reaches a handler: for every secured
 * operation, no credentials, a wrong key, and an expired, revoked or tampered token all answer
 * 401 AUTHENTICATION_ERROR, and the domain sees no call beyond checking the credential itself.
 * The operations come from the spec, so ones added later are covered; an operation without
 * security must be listed in PUBLIC (with the reason) or the matrix fails.
 */
import { describe, before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import { backends } from '../helpers/backends.ts';
import { listenApp, startTestServer, type TestServer } from '../helpers/server.ts';
import { raw } from '../helpers/client.ts';
import { createHttpApp } from '../../src/http/app.ts';
import { specOperations, type SpecOperation } from '../helpers/spec-ops.ts';
import { createDomain, type Domain } from '../../src/domain/index.ts';

/** Operations anyone may call, and why. Every other operation must declare security. */
const PUBLIC: Record<string, string> = {
  getHealth: 'load balancers probe it without credentials',
  getReady: 'load balancers probe it without credentials',
};

function securedOperations(): SpecOperation[] {
  return specOperations().filter((op) => op.security.length > 0);
}

/** Wraps the domain so every call is recorded as "section.method". */
function recording(domain: Domain, calls: string[]): Domain {
  return new Proxy(domain, {
    get(target, section: string) {
      const part = (target as any)[section];
      if (typeof part !== 'object' || part === null) return part;
      return new Proxy(part, {
        get(obj, method: string) {
          const fn = obj[method];
          if (typeof fn !== 'function') return fn;
          return (...args: unknown[]) => { calls.push(`${section}.${method}`); return fn.apply(obj, args); };
        },
      });
    },
  });
}

const concrete = (path: string) => path.replace(/\{[^}]+\}/g, 'some-id');

test('every operation in the spec either declares security or is listed as public with a reason', () => {
  const open = specOperations().filter((op) => op.security.length === 0).map((op) => op.operationId).sort();
  assert.deepEqual(open, Object.keys(PUBLIC).sort(), 'an operation without `security` in spec/openapi.yaml must be added to PUBLIC in test/http/security.test.ts (or given security)');
  const ids = specOperations().map((op) => op.operationId);
  assert.equal(securedOperations().length + open.length, ids.length);
});

for (const backend of backends()) {
  describe(`security [${backend.name}]`, () => {
    let s: TestServer;
    let served: Awaited<ReturnType<typeof listenApp>>;
    const calls: string[] = [];
    const tokens: Record<string, string> = {};

    before(async () => {
      s = await startTestServer(backend, { authFailuresPerIp: 1_000_000 }, { ws: false }); // the matrix sends hundreds of refused credentials from one address (throttling: credential-throttle.test.ts)
      const t = await s.tenant();
      await t.user('alice');
      const minted = await t.client.POST('/v1/users/{user_id}/tokens', { params: { path: { user_id: 'alice' } }, body: {} });
      const good = minted.data!.data.token;
      const [h, p, sig] = good.split('.');
      tokens.tampered = `${h}.${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p, 'base64url').toString()), sub: 'mallory' })).toString('base64url')}.${sig}`;
      const revoked = await t.client.POST('/v1/users/{user_id}/tokens', { params: { path: { user_id: 'alice' } }, body: {} });
      const revocation = await t.client.DELETE('/v1/users/{user_id}/tokens/{token_id}', { params: { path: { user_id: 'alice', token_id: revoked.data!.data.token_id } } });
      assert.equal(revocation.response.status, 200);
      tokens.revoked = revoked.data!.data.token;
      // A token minted by a domain whose clock is two hours behind has long expired.
      const past = createDomain({ ...s.running.parts, config: s.config, log: s.running.log, now: () => Date.now() - 2 * 3600_000 });
      tokens.expired = (await past.tokens.mint({ kind: 'tenant', tenantId: t.id }, 'alice', { ttl_seconds: 60 })).token;
      const { app } = await createHttpApp({
        config: s.config, domain: recording(s.running.domain, calls), log: s.running.log, startedAt: Date.now(), version: 'test',
      });
      served = await listenApp(app);
    });
    after(async () => {
      await served.close();
      await s.close();
    });

    // A refused credential is also counted against the client's address (authFailures.refused).
    const counted = 'authFailures.refused';
    const cases: [string, () => Record<string, string>, string[]][] = [
      ['no credentials', () => ({}), []],
      ['a wrong API key', () => ({ 'X-API-Key': 'ck_wrong', 'X-User-Id': 'alice' }), ['tenants.authenticateKey', counted]],
      ['an expired token', () => ({ Authorization: `Bearer ${tokens.expired}` }), ['tokens.verify', counted]],
      ['a revoked token', () => ({ Authorization: `Bearer ${tokens.revoked}` }), ['tokens.verify', counted]],
      ['a tampered token', () => ({ Authorization: `Bearer ${tokens.tampered}` }), ['tokens.verify', counted]],
      ['a wrong master key', () => ({ 'X-Master-Key': 'mk_wrong_wrong_wrong' }), [counted]],
      ['a wrong publishable key', () => ({ 'X-Publishable-Key': 'pk_wrong', Origin: 'https://app.example' }), ['publishableKeys.authenticate', counted]],
    ];

    test('the public operations answer without credentials', async () => {
      for (const op of specOperations().filter((o) => o.security.length === 0)) {
        const res = await raw(served.baseUrl, op.method, concrete(op.path));
        assert.ok(res.status < 400 || res.status === 503, `${op.operationId} without credentials: ${res.status}`);
      }
    });

    for (const [label, headers, allowed] of cases) {
      test(`every secured operation with ${label} answers 401 and runs no handler`, async () => {
        for (const op of securedOperations()) {
          calls.length = 0;
          const hasBody = op.method === 'POST' || op.method === 'PATCH';
          const res = await raw(served.baseUrl, op.method, concrete(op.path), {
            headers: { ...headers(), ...(hasBody ? { 'Content-Type': 'application/json' } : {}) },
            body: hasBody ? '{}' : undefined,
          });
          assert.equal(res.status, 401, `${op.operationId} with ${label}: ${JSON.stringify(res.body)}`);
          assert.equal(res.body.error.code, 'AUTHENTICATION_ERROR');
          const unexpected = calls.filter((c) => !allowed.includes(c));
          assert.deepEqual(unexpected, [], `${op.operationId} with ${label} reached the domain`);
        }
      });
    }
  });
}

/**
 * Tenants never see each other, for every operation in spec/openapi.yaml (read from the spec, so
 * operations added later are probed too): tenant B, with every kind of credential the operation
 * accepts, aims it at tenant A's resources and gets NOT_FOUND (or, for operator-only operations,
 * 401); nothing of A's ever shows in any answer B gets; nothing of A's changes. An operation this
 * file cannot derive a probe for, and that has no recipe in EXPLICIT below, fails the matrix.
 */
import { describe, before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import { backends } from '../helpers/backends.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { raw, type RawResponse } from '../helpers/client.ts';
import { createFixture, type SpecFixture } from '../helpers/spec-fixture.ts';
import { exampleOf } from '../helpers/schema-arb.ts';
import { fillPath, specOperations, type SpecOperation } from '../helpers/spec-ops.ts';

type Expect = { status: number[]; code?: string };
interface Probe {
  why: string;
  /** The request body (default: a valid example with A's ids in every *_id field). */
  body?: (a: SpecFixture, attempt: number) => unknown;
  expect: Expect;
}

const NOT_FOUND: Expect = { status: [404], code: 'NOT_FOUND' };

/** Operations that name no resource of A's by path or body and are not plain reads. */
const EXPLICIT: Record<string, Probe> = {
  createUser: {
    why: "user ids are per tenant: B may create a user with A's owner's id, and learns nothing (A's member id stays free for the probes after)",
    body: (a, attempt) => ({ id: attempt === 0 ? a.userIds[0] : `${a.userIds[0]}.${attempt}`, username: `copy-${attempt}` }),
    expect: { status: [201, 403] }, // 403: a Bearer user without the role to create users
  },
  createRoom: {
    why: "B cannot put A's users in its room: they are unknown to B, exactly as a user that exists nowhere",
    body: (a) => ({ type: 'group', name: 'lure', members: [a.params.user_id] }),
    expect: { status: [400], code: 'VALIDATION_ERROR' },
  },
  createRealtimeTicket: { why: 'a ticket is for the caller itself; checked for leaks only', expect: { status: [201] } },
  markNotificationsRead: {
    why: "B marks A's notification by id: nothing of A's changes (checked below) and the answer counts B's own",
    body: (a) => ({ ids: [a.params.notification_id] }),
    expect: { status: [200] },
  },
  createWebhook: {
    why: "B's own endpoint filtered on A's room: the room is not B's, so NOT_FOUND",
    body: (a) => ({ url: 'https://93.184.216.34/b', event_types: ['*'], enabled: false, room_ids: [a.params.room_id] }),
    expect: { status: [403, 404] }, // 404: not a room of B's; 403: a Bearer user who is not an admin
  },
  // Sign-in calls act in the tenant of the key presented: B's key reaches B's accounts only.
  registerUser: { why: "an account of B's own", body: () => ({ username: 'b-own', password: 'b password 1' }), expect: { status: [201, 409] } },
  loginUser: {
    why: "A's username is unknown in B: the same 401 as any wrong login",
    body: (a) => ({ username: a.userIds[0], password: 'not the password' }), expect: { status: [401], code: 'AUTHENTICATION_ERROR' },
  },
  refreshToken: { why: 'a refresh token B does not hold', body: () => ({ refresh_token: 'rt_unknown' }), expect: { status: [401], code: 'AUTHENTICATION_ERROR' } },
  logout: { why: 'logging out a token B does not hold changes nothing and says nothing', body: () => ({ refresh_token: 'rt_unknown' }), expect: { status: [200] } },
  guestLogin: { why: "a guest of B's own", body: () => ({}), expect: { status: [201] } },
  requestRoomCode: {
    why: "always 202 (no enumeration); B's key mails nothing for A's room (checked below)",
    body: () => ({ email: 'b@example.com' }), expect: { status: [202, 429] },
  },
  exchangeRoomCode: {
    why: "a code for A's room under B's key: the same 401 as any wrong code",
    body: () => ({ email: 'b@example.com', code: '123456' }), expect: { status: [401], code: 'AUTHENTICATION_ERROR' },
  },
  createTicket: {
    why: "a support ticket of B's own; checked for leaks only",
    body: () => ({ subject: 'B ticket', initial_message: 'hello' }),
    expect: { status: [201] },
  },
};

/** Credentials B presents: one set per security alternative the operation accepts. */
function attackers(op: SpecOperation, b: SpecFixture, bearer: string): [string, Record<string, string>][] {
  const out: [string, Record<string, string>][] = [];
  for (const alt of op.security) {
    const key = [...alt].sort().join('+');
    if (key === 'ApiKey') out.push(['tenant key', b.headers('tenant')]);
    else if (key === 'ApiKey+UserId') out.push(['key + X-User-Id', b.headers('user')]);
    else if (key === 'Bearer') out.push(['Bearer', { Authorization: `Bearer ${bearer}` }]);
    else if (key === 'MasterKey') out.push(['tenant key on an operator operation', b.headers('tenant')]);
    else if (key === 'PublishableKey') out.push(['publishable key', { 'X-Publishable-Key': b.publishableKey }]);
    else assert.fail(`${op.operationId}: no attacker for security ${key}; teach test/http/isolation.test.ts`);
  }
  return out.length ? out : [['no credentials', {}]];
}

/** The probe for an operation: derived from the spec where possible, else EXPLICIT, else a failure. */
function probeFor(op: SpecOperation, a: SpecFixture): Probe {
  const operatorOnly = op.security.length > 0 && op.security.every((alt) => alt.includes('MasterKey'));
  if (operatorOnly) return { why: 'operator only', expect: { status: [401], code: 'AUTHENTICATION_ERROR' } };
  if (EXPLICIT[op.operationId]) return EXPLICIT[op.operationId]!;
  const pathParams = op.params.filter((p) => p.in === 'path');
  for (const p of pathParams) assert.ok(p.name in a.params, `${op.operationId}: no resource of A's for path parameter {${p.name}}; add it to test/helpers/spec-fixture.ts`);
  const bodyIds = Object.keys(op.body?.properties ?? {}).filter((k) => k in a.params);
  if (pathParams.length || bodyIds.length) return { why: `names A's ${[...pathParams.map((p) => p.name), ...bodyIds].join(', ')}`, expect: NOT_FOUND };
  if (op.method === 'GET') return { why: 'a read of B’s own: must show nothing of A’s', expect: { status: [200] } };
  assert.fail(`${op.operationId} (${op.method} ${op.path}) names no resource and has no probe recipe: add one to EXPLICIT in test/http/isolation.test.ts`);
}

function bodyFor(op: SpecOperation, probe: Probe, a: SpecFixture, attempt: number): string | undefined {
  if (probe.body) return JSON.stringify(probe.body(a, attempt));
  if (!op.body) return undefined;
  const example = exampleOf(op.body) as Record<string, unknown>;
  for (const k of Object.keys(op.body.properties ?? {})) if (k in a.params) example[k] = a.params[k];
  return JSON.stringify(example);
}

function assertNoLeak(res: RawResponse, a: SpecFixture, where: string): void {
  if (res.status >= 300) return; // an error may echo the id B itself sent
  const text = JSON.stringify(res.body);
  for (const secret of a.secrets) assert.ok(!text.includes(secret), `${where}: B's answer contains A's ${JSON.stringify(secret)}: ${text.slice(0, 300)}`);
}

for (const backend of backends()) {
  describe(`tenant isolation [${backend.name}]`, () => {
    let s: TestServer;
    let a: SpecFixture;
    let b: SpecFixture;
    let bearer: string;
    before(async () => {
      s = await startTestServer(backend, { webhookAllowPrivate: true }, { ws: false, outbox: { autostart: false } });
      a = await createFixture(s, 'A', ['alice', 'amy']);
      b = await createFixture(s, 'B', ['mallory', 'bert']);
      const minted = await s.client(b.headers('tenant')).POST('/v1/users/{user_id}/tokens', { params: { path: { user_id: 'mallory' } }, body: {} });
      bearer = minted.data!.data.token;
    });
    after(() => s.close());

    test("every operation, with every credential B has, is refused on A's resources and shows nothing of A's", async () => {
      let probes = 0;
      for (const op of specOperations()) {
        const probe = probeFor(op, a);
        for (const [attempt, [as, headers]] of attackers(op, b, bearer).entries()) {
          const body = bodyFor(op, probe, a, attempt);
          const where = `${op.operationId} as B (${as}; ${probe.why})`;
          const res = await raw(s.baseUrl, op.method, fillPath(op.path, a.params), {
            headers: { ...headers, ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}) }, body,
          });
          assert.ok(probe.expect.status.includes(res.status), `${where} answered ${res.status}, expected ${probe.expect.status}: ${JSON.stringify(res.body)}`);
          if (probe.expect.code) assert.equal(res.body.error?.code, probe.expect.code, where);
          assertNoLeak(res, a, where);
          probes++;
        }
      }
      console.log(`isolation [${backend.name}]: ${probes} cross-tenant probes over ${specOperations().length} operations, all refused or blind`);
    });

    test('nothing of A changed', async () => {
      const alice = s.client(a.headers('user'));
      const room = await alice.GET('/v1/rooms/{room_id}', { params: { path: { room_id: a.params.room_id! } } });
      assert.equal(room.data!.data.name, 'A room');
      assert.deepEqual(room.data!.data.members.map((m) => m.user_id).sort(), ['alice', 'amy']);
      const amy = await alice.GET('/v1/users/{user_id}', { params: { path: { user_id: 'amy' } } });
      assert.equal(amy.data!.data.display_name, null);
      const msgs = await alice.GET('/v1/rooms/{room_id}/messages', { params: { path: { room_id: a.params.room_id! } } });
      assert.deepEqual(msgs.data!.data.items.map((m) => m.content), [a.secrets[4]]);
      const amyNotes = await s.client({ ...a.headers('tenant'), 'X-User-Id': a.userIds[1] }).GET('/v1/me/notifications', {});
      assert.equal(amyNotes.data!.data.unread_count, 1, "A's notification is still unread");
      const tenant = await s.master.GET('/v1/tenants/{tenant_id}', { params: { path: { tenant_id: a.tenantId } } });
      assert.equal(tenant.response.status, 200);
      const still = await s.client(a.headers('tenant')).GET('/v1/users', {});
      assert.equal(still.response.status, 200, "A's key still works");
    });

    test("sign-in calls act in the publishable key's own tenant only", async () => {
      const [browserA, browserB] = [s.client({ 'X-Publishable-Key': a.publishableKey }), s.client({ 'X-Publishable-Key': b.publishableKey })];
      const body = { username: 'zoe', password: 'zoe password 1' };
      const session = (await browserA.POST('/v1/auth/register', { body })).data!.data;
      assert.equal((await browserB.POST('/v1/auth/login', { body })).response.status, 401, "B's key cannot log into A's account");
      assert.equal((await browserB.POST('/v1/auth/refresh', { body: { refresh_token: session.refresh_token } })).response.status, 401);
      assert.equal((await browserB.POST('/v1/auth/logout', { body: { refresh_token: session.refresh_token } })).response.status, 200);
      const still = await browserA.POST('/v1/auth/refresh', { body: { refresh_token: session.refresh_token } });
      assert.equal(still.response.status, 200, "B's logout did not touch A's session");
      const users = await s.client(b.headers('tenant')).GET('/v1/users', { params: { query: { limit: 200 } } });
      assert.equal(users.data!.data.items.some((u) => u.username === 'zoe'), false);
      // requestRoomCode answered 202 for A's room in the matrix above, but B's key stored (and mailed) nothing.
      assert.deepEqual(await s.running.parts.db('room_codes').where({ room_id: a.params.room_id! }), []);
    });

    test("X-User-Id cannot name another tenant's user", async () => {
      const res = await s.client({ ...b.headers('tenant'), 'X-User-Id': a.params.user_id! }).GET('/v1/me', {});
      assert.equal(res.response.status, 401);
    });
  });
}

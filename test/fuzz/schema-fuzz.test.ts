/**
 * Schema fuzzing of every operation in spec/openapi.yaml (read from generated/openapi.bundle.json,
 * so operations added later are fuzzed too), with fast-check: first each single-field violation
 * once on a plain valid request (in a seeded order, for up to 60% of the operation's share of the
 * time budget), then random valid requests, then random violations of random valid requests,
 * until the share is spent. Every answer must come
 * within REQUEST_TIMEOUT_MS, be no 5xx, and match the spec (status documented, body valid); a
 * request the spec forbids must be a 4xx. Path parameters name real resources (spec-fixture.ts);
 * each operation gets a fresh tenant, since some delete what they are given.
 *
 *   FUZZ_BUDGET_MS  total time over all backends (default 120000)
 *   FUZZ_SEED       replay a run (printed on failure)
 */
import { describe, before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import fc from 'fast-check';
import { backends } from '../helpers/backends.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { checkResponse } from '../helpers/contract.ts';
import { createFixture, type SpecFixture } from '../helpers/spec-fixture.ts';
import { exampleOf, valueArb } from '../helpers/schema-arb.ts';
import { callerOf, fillPath, specOperations, type SpecOperation } from '../helpers/spec-ops.ts';
import { applyMutation, mutationsOf, serialize, type FuzzRequest, type Mutation } from './violations.ts';

const BUDGET_MS = Number(process.env.FUZZ_BUDGET_MS ?? 120_000);
const SEED = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
const REQUEST_TIMEOUT_MS = 10_000;
const backendList = backends();

interface Tally { valid: number; violations: number; refused: number; byStatus: Map<number, number>; serverErrors: string[] }

/** Header values must be visible ASCII; the schema's own strings may not be. */
const headerValue = fc.stringMatching(/^[!-~]{1,64}$/);

function paramArb(op: SpecOperation, p: SpecOperation['params'][number], fixture: SpecFixture): fc.Arbitrary<string | undefined> {
  if (p.in === 'path') return fc.constant(fixture.params[p.name] ?? String(exampleOf(p.schema)));
  const value = p.in === 'header' ? headerValue : valueArb(p.schema).map(String);
  return p.required ? value : fc.option(value, { nil: undefined });
}

/** Valid requests for an operation (path parameters: the fixture's real resources). */
function validRequests(op: SpecOperation, fixture: SpecFixture): fc.Arbitrary<FuzzRequest> {
  const parts = Object.fromEntries(op.params.map((p) => [`${p.in}:${p.name}`, paramArb(op, p, fixture)]));
  const body = op.body ? (op.bodyRequired ? valueArb(op.body) : fc.option(valueArb(op.body), { nil: undefined })) : fc.constant(undefined);
  return fc.record({ parts: fc.record(parts), body }).map(({ parts: values, body: b }) => {
    const req: FuzzRequest = { path: {}, query: {}, headers: {}, body: b };
    for (const p of op.params) {
      const v = (values as Record<string, string | undefined>)[`${p.in}:${p.name}`];
      if (v !== undefined) (p.in === 'path' ? req.path : p.in === 'query' ? req.query : req.headers)[p.name] = v;
    }
    return req;
  });
}

/** A plain valid request (examples and fixture values), the base every violation is tried on first. */
function plainRequest(op: SpecOperation, fixture: SpecFixture): FuzzRequest {
  const req: FuzzRequest = { path: {}, query: {}, headers: {}, body: op.body && op.bodyRequired ? exampleOf(op.body) : undefined };
  for (const p of op.params) {
    if (p.in === 'path') req.path[p.name] = fixture.params[p.name] ?? String(exampleOf(p.schema));
    else if (p.required) (p.in === 'query' ? req.query : req.headers)[p.name] = String(exampleOf(p.schema));
  }
  return req;
}

let agent = new http.Agent({ keepAlive: true, maxSockets: 4 });

/** node:http rather than fetch: fetch refuses to send a body with GET, and the fuzzer wants to. */
function request(url: URL, method: string, headers: Record<string, string>, body?: string): Promise<{ status: number; headers: Headers; text: string }> {
  return new Promise((resolve, reject) => {
    const length = body === undefined ? {} : { 'Content-Length': String(Buffer.byteLength(body)) };
    const req = http.request(url, { method, agent, headers: { ...headers, ...length }, timeout: REQUEST_TIMEOUT_MS }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const h = new Headers();
        for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) h.set(k, ([] as string[]).concat(v).join(', '));
        resolve({ status: res.statusCode!, headers: h, text: Buffer.concat(chunks).toString('utf8') });
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`timed out after ${REQUEST_TIMEOUT_MS} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

async function send(s: TestServer, op: SpecOperation, fixture: SpecFixture, req: FuzzRequest, tally: Tally, why: string, mustRefuse: boolean): Promise<void> {
  const url = new URL(fillPath(op.path, req.path), s.baseUrl);
  for (const [k, v] of Object.entries(req.query)) for (const one of ([] as string[]).concat(v)) url.searchParams.append(k, one);
  const hasBody = req.body !== undefined;
  const headers: Record<string, string> = { ...fixture.headers(callerOf(op)), ...req.headers, ...(hasBody ? { 'Content-Type': 'application/json' } : {}) };
  const where = `${op.operationId} ${op.method} ${url.pathname}${url.search.slice(0, 200)} [${why}]`;
  let response: { status: number; headers: Headers; text: string };
  try {
    response = await request(url, op.method, headers, hasBody ? serialize(req.body) : undefined);
  } catch (err) {
    throw new Error(`${where}: no answer within ${REQUEST_TIMEOUT_MS} ms or connection broken: ${(err as Error).message}`);
  }
  const text = response.text;
  tally.byStatus.set(response.status, (tally.byStatus.get(response.status) ?? 0) + 1);
  if (response.status >= 500) tally.serverErrors.push(`${where}: ${response.status} ${text.slice(0, 300)}`); // even if a property swallows it
  assert.ok(response.status < 500, `${where}: ${response.status} ${text.slice(0, 400)}`);
  let body: unknown;
  try { body = JSON.parse(text); } catch { assert.fail(`${where}: ${response.status} body is not JSON: ${text.slice(0, 200)}`); }
  await checkResponse(op.method, url.pathname, response.status, response.headers, body);
  if (mustRefuse) {
    assert.ok(response.status >= 400, `${where}: the spec forbids this request, but it was accepted with ${response.status}: ${text.slice(0, 300)}`);
    tally.refused++;
  }
}

/**
 * Runs a property in chunks of a few runs until `ms` is spent (at least one chunk). Not
 * fast-check's interruptAfterTimeLimit: it drops the outcome of the run in flight at the limit,
 * so a slow request that failed there would pass unnoticed.
 */
async function timed(property: fc.IAsyncProperty<any>, seed: number, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  for (let chunk = 0; chunk === 0 || Date.now() < deadline; chunk++) {
    await fc.assert(property, { seed: seed + chunk * 7919, numRuns: 5, endOnFailure: true });
  }
}

/** Fuzzes one operation; returns what failed (the fixed violations all run; a random failure ends it). */
async function fuzzOperation(s: TestServer, op: SpecOperation, sliceMs: number, tally: Tally, seed: number): Promise<string[]> {
  const started = Date.now();
  const fixture = await createFixture(s, `fz-${op.operationId}`);
  const mutations = mutationsOf(op);
  const base = plainRequest(op, fixture);
  const failures: string[] = [];
  // Each violation once on the plain request, in a seeded order, for up to 60% of the slice; the
  // random phase below draws from all of them again, so every run covers a different share.
  const order = fc.sample(fc.shuffledSubarray(mutations, { minLength: mutations.length }), { seed, numRuns: 1 })[0] ?? [];
  for (const m of order) {
    if (Date.now() - started > sliceMs * 0.6) break;
    const req = applyMutation(base, m);
    if (!req) continue;
    tally.violations++;
    await send(s, op, fixture, req, tally, m.label, m.refuse).catch((err: Error) => failures.push(err.message.split('\n')[0]!));
  }
  if (failures.length) return failures;
  const left = () => Math.max(150, sliceMs - (Date.now() - started));
  const valid = validRequests(op, fixture);
  await timed(fc.asyncProperty(valid, async (req) => {
    await send(s, op, fixture, req, tally, 'valid', false);
    tally.valid++;
  }), seed, left() / 2);
  if (mutations.length > 0) await timed(fc.asyncProperty(valid, fc.constantFrom(...mutations), async (req, m: Mutation) => {
    const mutated = applyMutation(req, m);
    if (!mutated) return;
    await send(s, op, fixture, mutated, tally, `random ${m.label}`, m.refuse);
    tally.violations++;
  }), seed + 1, left());
  return failures;
}

for (const backend of backendList) {
  describe(`schema fuzzing [${backend.name}]`, () => {
    let s: TestServer;
    before(async () => { agent = new http.Agent({ keepAlive: true, maxSockets: 4 }); s = await startTestServer(backend, { webhookAllowPrivate: true }, { ws: false, outbox: { autostart: false } }); });
    after(async () => {
      agent.destroy();
      await s.close();
    });

    test('every operation: no 5xx, no hang, every answer in the contract, every forbidden request refused', { timeout: BUDGET_MS + 300_000 }, async () => {
      const ops = specOperations();
      const sliceMs = BUDGET_MS / backendList.length / ops.length;
      const tally: Tally = { valid: 0, violations: 0, refused: 0, byStatus: new Map(), serverErrors: [] };
      const failures: string[] = [];
      for (const [i, op] of ops.entries()) {
        try {
          failures.push(...await fuzzOperation(s, op, sliceMs, tally, SEED + i * 2));
        } catch (err) {
          failures.push(`${op.operationId}: ${(err as Error).message}`);
        }
      }
      const statuses = [...tally.byStatus].sort(([a], [b]) => a - b).map(([k, v]) => `${k}×${v}`).join(' ');
      console.log(`fuzz [${backend.name}]: ${tally.valid + tally.violations} requests fuzzed over ${ops.length} operations `
        + `(${tally.valid} valid, ${tally.violations} violations, ${tally.refused} of them refused as the spec requires); statuses ${statuses}; seed ${SEED}`);
      assert.deepEqual(tally.serverErrors, [], `5xx answers (seed ${SEED}: rerun with FUZZ_SEED=${SEED})`);
      assert.deepEqual(failures, [], `${failures.length} fuzz failures (seed ${SEED}: rerun with FUZZ_SEED=${SEED}):\n${failures.join('\n')}`);
    });
  });
}

// Clients from any generator: each of four stock generators builds a client from the bundled spec
// that passes `tsc --strict`, and three of them drive tenant → users → token → room → idempotent
// send → list against a running server, every response validated against the spec.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { backends } from '../helpers/backends.ts';
import { validatingFetch } from '../helpers/contract.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { buildAndCheck, GENERATORS, ROOT } from './generators.ts';

interface FlowModule {
  run(input: { baseUrl: string; masterKey: string; fetch: (input: Request) => Promise<Response> }): Promise<{
    first: { id: string; seq: number; status: number };
    repeat: { id: string; status: number };
    listed: string[];
  }>;
}

const OUT = path.join(ROOT, 'test-results/clients', randomBytes(4).toString('hex'));

describe('generated clients', () => {
  const [first, ...others] = backends();
  let server: TestServer;
  const checked = new Map<string, Promise<string>>();

  before(async () => {
    server = await startTestServer(first!);
    // Two at a time: the machine has two cores.
    for (let i = 0; i < GENERATORS.length; i += 2) {
      const pair = GENERATORS.slice(i, i + 2).map((g) => [g.name, buildAndCheck(g, path.join(OUT, g.name), server.baseUrl)] as const);
      for (const [name, done] of pair) checked.set(name, done);
      await Promise.all(pair.map(([, done]) => done));
    }
  });
  after(async () => {
    await server?.close();
    await rm(OUT, { recursive: true, force: true });
  });

  test('the bundled spec has no $ref into another schema', async () => {
    const bundle = await readFile(path.join(ROOT, 'generated/openapi.bundle.yaml'), 'utf8');
    const refs = [...bundle.matchAll(/\$ref: "?([^"\n]+)"?/g)].map((m) => m[1]!);
    assert.deepEqual(refs.filter((r) => !/^#\/components\/[A-Za-z]+\/[A-Za-z0-9_.-]+$/.test(r)), []);
  });

  for (const gen of GENERATORS) {
    test(`${gen.name}: the generated client passes tsc --strict (${String(gen.compilerOptions.moduleResolution)} resolution)`, async () => {
      assert.equal(await checked.get(gen.name), '');
    });
  }

  for (const gen of GENERATORS.filter((g) => g.flow)) {
    for (const backend of [first!, ...others]) {
      test(`${gen.name}: tenant → users → token → room → idempotent send → list (${backend.name})`, async (t) => {
        const target = backend === first ? server : await startTestServer(backend);
        if (target !== server) t.after(() => target.close());
        assert.equal(await checked.get(gen.name), '', 'type-checks first');
        const flow = (await import(pathToFileURL(path.join(OUT, gen.name, 'flow.ts')).href)) as FlowModule;
        const result = await flow.run({ baseUrl: target.baseUrl, masterKey: target.masterKey, fetch: validatingFetch() });
        assert.equal(result.first.status, 201);
        assert.equal(result.first.seq, 1);
        assert.deepEqual(result.repeat, { id: result.first.id, status: 200 }, 'the repeat returns the original message');
        assert.deepEqual(result.listed, [result.first.id], 'stored once');
      });
    }
  }
});

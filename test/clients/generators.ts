/**
 * Builds a client from generated/openapi.bundle.yaml with each of four stock generators, the way an
 * integrator would (their CLIs, offline, pinned in devDependencies), and type-checks each output
 * with `tsc --strict` under the module resolution that generator documents. The flow of each
 * generator that has one (test/clients/flows/) is copied next to its output and checked with it.
 */
import { execFile } from 'node:child_process';
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = path.join(ROOT, 'node_modules/.bin');
const SPEC = path.join(ROOT, 'generated/openapi.bundle.yaml');
const FLOWS = path.join(ROOT, 'test/clients/flows');

export interface Generator {
  name: string;
  /** What the generator's docs ask of a consuming project's tsconfig. */
  compilerOptions: Record<string, unknown>;
  /** Writes the client into `dir` (orval bakes the base URL in at generation time). */
  generate(dir: string, baseUrl: string): Promise<unknown>;
  /** Has a flow in test/clients/flows/<name>.ts. */
  flow: boolean;
}

const bundler = { module: 'ESNext', moduleResolution: 'Bundler' };
const nodeNext = { module: 'NodeNext', moduleResolution: 'NodeNext' };

export const GENERATORS: Generator[] = [
  {
    name: 'openapi-typescript',
    // openapi-typescript's docs: Bundler (or NodeNext) resolution and noUncheckedIndexedAccess.
    compilerOptions: { ...bundler, noUncheckedIndexedAccess: true },
    // cwd: the client's folder, as in an integrator's project (not this repo's redocly.yaml rules).
    generate: (dir) => run(path.join(BIN, 'openapi-typescript'), [SPEC, '-o', path.join(dir, 'schema.d.ts')], { cwd: dir }),
    flow: true,
  },
  {
    name: 'hey-api',
    // @hey-api/openapi-ts writes extensionless relative imports: a bundler (or Bundler resolution).
    compilerOptions: bundler,
    generate: (dir) => run(path.join(BIN, 'openapi-ts'), ['-i', SPEC, '-o', path.join(dir, 'hey'), '-c', '@hey-api/client-fetch'], { cwd: dir }),
    flow: true,
  },
  {
    name: 'orval',
    // orval's fetch client in single mode: one self-contained file; its docs use Bundler resolution.
    compilerOptions: bundler,
    generate: async (dir, baseUrl) => {
      const config = path.join(dir, 'orval.config.cjs');
      const output = { target: path.join(dir, 'orval/chatapi.ts'), client: 'fetch', mode: 'single', baseUrl, prettier: false };
      await writeFile(config, `module.exports = ${JSON.stringify({ chatapi: { input: { target: SPEC }, output } })};\n`);
      return run(path.join(BIN, 'orval'), ['--config', config], { cwd: dir });
    },
    flow: false,
  },
  {
    name: 'swagger-typescript-api',
    // One self-contained api.ts with no imports: plain Node ESM resolution.
    compilerOptions: nodeNext,
    generate: (dir) => run(path.join(BIN, 'swagger-typescript-api'), ['generate', '-p', SPEC, '-o', dir, '-n', 'api.ts', '--silent'], { cwd: dir }),
    flow: true,
  },
];

/** Generates `gen`'s client under `dir`, adds its flow, and returns tsc's complaints ('' when clean). */
export async function buildAndCheck(gen: Generator, dir: string, baseUrl: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  await gen.generate(dir, baseUrl);
  if (gen.flow) await copyFile(path.join(FLOWS, `${gen.name}.ts`), path.join(dir, 'flow.ts'));
  const tsconfig = {
    compilerOptions: { target: 'ES2022', lib: ['ES2023', 'DOM', 'DOM.Iterable'], strict: true, noEmit: true, skipLibCheck: true, types: [], ...gen.compilerOptions },
    include: ['./**/*.ts'],
  };
  await writeFile(path.join(dir, 'tsconfig.json'), JSON.stringify(tsconfig, null, 2));
  try {
    await run(path.join(BIN, 'tsc'), ['-p', dir], { cwd: dir });
    return '';
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    return `${e.stdout ?? ''}${e.stderr ?? ''}` || e.message;
  }
}

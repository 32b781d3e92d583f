// `make check-asyncapi-cli`: what an integrator's AsyncAPI tooling makes of our spec, with the CLI
// itself (@asyncapi/cli 4.1.1, pinned in tools/asyncapi-cli/, analytics off):
//   1. `asyncapi validate` on spec/asyncapi.yaml and on generated/asyncapi.bundle.yaml;
//   2. `asyncapi generate models typescript` on the bundle: every frame gets a named type with the
//      wire property names, the channel's server frames form one union discriminated by `type`,
//      no schema comes out anonymous, and the models pass tsc --strict.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parse } from 'yaml';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CLI = path.join(ROOT, 'tools/asyncapi-cli/node_modules/.bin/asyncapi');

async function asyncapi(args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  const { stdout, stderr } = await run(CLI, args, { cwd: ROOT, env, maxBuffer: 16 << 20 });
  return stdout + stderr;
}

/** The `type` const of every server frame the bundle's `sendServerFrame` operation lists. */
function serverFrameTypes(bundle: string): string[] {
  const doc = parse(readFileSync(bundle, 'utf8'));
  const op = doc.operations.sendServerFrame;
  return op.messages.map((m: { $ref: string }) => {
    const key = m.$ref.split('/').pop()!;
    const payload = doc.components.messages[key].payload;
    const schema = payload.$ref ? doc.components.schemas[payload.$ref.split('/').pop()] : payload;
    return schema.properties.type.const as string;
  });
}

function checkModels(dir: string, expectedTypes: string[]): string[] {
  const problems: string[] = [];
  const files = readdirSync(dir);
  const anonymous = files.filter((f) => f.startsWith('AnonymousSchema'));
  if (anonymous.length) problems.push(`anonymous models (a schema without a title): ${anonymous.join(', ')}`);
  const union = readFileSync(path.join(dir, 'Realtime.ts'), 'utf8');
  const members = /type Realtime = ([^;]+);/.exec(union)?.[1]?.split('|').map((s) => s.trim()) ?? [];
  const found = members.map((m) => /'type': '([^']+)'/.exec(readFileSync(path.join(dir, `${m}.ts`), 'utf8'))?.[1]);
  if (JSON.stringify(found) !== JSON.stringify(expectedTypes)) {
    problems.push(`Realtime should be the union of every server frame by 'type' (${expectedTypes.join(', ')}), got ${members.join(' | ')} → ${found.join(', ')}`);
  }
  return problems;
}

async function main(): Promise<void> {
  const tmp = mkdtempSync(path.join(ROOT, 'test-results/asyncapi-models-'));
  const config = path.join(tmp, 'analytics.json');
  writeFileSync(config, JSON.stringify({ analyticsEnabled: 'false', infoMessageShown: 'true', userID: 'chatapi-ci' }));
  const env = { ...process.env, ASYNCAPI_METRICS_CONFIG_PATH: config, CI: 'true', NODE_ENV: 'production' };
  const problems: string[] = [];
  try {
    for (const file of ['spec/asyncapi.yaml', 'generated/asyncapi.bundle.yaml']) {
      const out = await asyncapi(['validate', file, '--fail-severity', 'error'], env);
      console.log(`asyncapi validate ${file}: ${/is valid/.test(out) ? 'valid' : out.trim()}`);
    }
    const models = path.join(tmp, 'models');
    const flags = ['--tsModelType', 'interface', '--tsEnumType', 'union', '--tsRawPropertyNames', '--tsExportType', 'named', '--tsModuleSystem', 'ESM', '--no-interactive'];
    await asyncapi(['generate', 'models', 'typescript', 'generated/asyncapi.bundle.yaml', '-o', models, ...flags], env);
    problems.push(...checkModels(models, serverFrameTypes(path.join(ROOT, 'generated/asyncapi.bundle.yaml'))));
    const tsconfig = { compilerOptions: { target: 'ES2022', module: 'ESNext', moduleResolution: 'Bundler', strict: true, noEmit: true, types: [] }, include: ['./*.ts'] };
    writeFileSync(path.join(models, 'tsconfig.json'), JSON.stringify(tsconfig));
    await run(path.join(ROOT, 'node_modules/.bin/tsc'), ['-p', models]).catch((e: { stdout?: string }) => problems.push(`models fail tsc --strict:\n${e.stdout}`));
    console.log(`asyncapi generate models typescript: ${readdirSync(models).length - 1} models, union Realtime over every server frame`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  if (problems.length) throw new Error(problems.join('\n'));
}

main().catch((err: unknown) => {
  console.error(`check-asyncapi-cli failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});

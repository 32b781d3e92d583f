// `make generate`: spec/ → generated/. Deterministic and idempotent (same spec → same bytes).
// Usage: tsx src/tools/generate.ts [--spec spec] [--out generated]
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Bundler } from './lib/bundle.ts';
import { checkDeclarations } from './lib/check-dts.ts';
import { bundleOpenApi, openApiTypes, toJson, toYaml, withNotice } from './lib/openapi.ts';
import { collectSchemas, frameTypes } from './lib/schemas.ts';
import { listSchemaFiles } from './lib/spec.ts';
import { buildValidators } from './lib/validators.ts';

export async function generate(specDir: string, outDir: string): Promise<string[]> {
  const schemaFiles = listSchemaFiles(specDir);
  const files = new Map<string, string>();

  const openapi = bundleOpenApi(specDir, schemaFiles);
  files.set('openapi.bundle.json', toJson(openapi));
  files.set('openapi.bundle.yaml', toYaml(openapi, 'spec/openapi.yaml'));
  files.set('openapi.d.ts', await openApiTypes(openapi));

  const asyncapiFile = path.join(specDir, 'asyncapi.yaml');
  const hasAsyncapi = existsSync(asyncapiFile);
  if (hasAsyncapi) {
    const asyncapi = withNotice(new Bundler({ schemaFiles, target: ['components', 'schemas'] }).bundle(asyncapiFile), 'spec/asyncapi.yaml');
    files.set('asyncapi.bundle.json', toJson(asyncapi));
    files.set('asyncapi.bundle.yaml', toYaml(asyncapi, 'spec/asyncapi.yaml'));
  } else {
    console.warn(`warning: ${asyncapiFile} not found; skipping the AsyncAPI bundle`);
  }

  const defs = collectSchemas(schemaFiles, hasAsyncapi ? asyncapiFile : null);
  files.set('frames.d.ts', await frameTypes(defs));
  const validators = buildValidators(defs);
  for (const w of validators.warnings) console.warn(`ajv: ${w}`);
  files.set('validators.cjs', validators.code);
  files.set('validators.d.cts', validators.dts);

  mkdirSync(outDir, { recursive: true });
  for (const stale of readdirSync(outDir).filter((f) => !files.has(f)).sort()) {
    console.warn(`removing stale ${path.join(outDir, stale)}`);
    rmSync(path.join(outDir, stale), { recursive: true });
  }
  for (const [name, content] of files) writeFileSync(path.join(outDir, name), content);
  const problems = checkDeclarations(outDir, [...files.keys()].filter((f) => /\.d\.c?ts$/.test(f)));
  if (problems.length) throw new Error(`generated declarations do not typecheck:\n${problems.join('\n')}`);
  return [...files.keys()];
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { spec: { type: 'string', default: 'spec' }, out: { type: 'string', default: 'generated' }, quiet: { type: 'boolean', default: false } },
  });
  const written = await generate(values.spec!, values.out!);
  if (!values.quiet) console.log(`generated ${written.length} files in ${values.out}/: ${written.join(', ')}`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err: unknown) => {
    console.error(`make generate failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
}

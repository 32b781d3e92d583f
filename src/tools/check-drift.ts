// `make check-drift`: regenerate into a scratch directory and compare with the committed generated/.
// Exit 1 with the list of differing files when someone edited spec/ without `make generate`
// (or edited generated/ by hand).
// Usage: tsx src/tools/check-drift.ts [--spec spec] [--generated generated]
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { generate } from './generate.ts';

// Inside the repo so generated declarations resolve packages (ajv) from node_modules while checked.
const SCRATCH_ROOT = path.join('node_modules', '.cache', 'chatapi');

const list = (dir: string) => (existsSync(dir) ? readdirSync(dir).sort() : []);

/** One line per file that differs between `generatedDir` and a fresh generation from `specDir`. */
export async function findDrift(specDir: string, generatedDir: string): Promise<string[]> {
  mkdirSync(SCRATCH_ROOT, { recursive: true });
  const scratch = mkdtempSync(path.join(SCRATCH_ROOT, 'drift-'));
  try {
    await generate(specDir, scratch);
    const problems: string[] = [];
    for (const name of [...new Set([...list(scratch), ...list(generatedDir)])].sort()) {
      const committed = path.join(generatedDir, name);
      const fresh = path.join(scratch, name);
      if (!existsSync(committed)) problems.push(`missing  ${committed}`);
      else if (!existsSync(fresh)) problems.push(`extra    ${committed} (the spec no longer generates it)`);
      else if (!readFileSync(committed).equals(readFileSync(fresh))) problems.push(`differs  ${committed}`);
    }
    return problems;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { spec: { type: 'string', default: 'spec' }, generated: { type: 'string', default: 'generated' } } });
  const problems = await findDrift(values.spec!, values.generated!);
  if (problems.length) {
    console.error(`${values.generated}/ is out of date with ${values.spec}/:\n${problems.map((p) => `  ${p}`).join('\n')}`);
    console.error('run `make generate` and commit generated/ together with the spec change (never edit generated/ by hand)');
    process.exit(1);
  }
  console.log(`${values.generated}/ matches ${values.spec}/ (${list(values.generated!).length} files)`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err: unknown) => {
    console.error(`drift check failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
}

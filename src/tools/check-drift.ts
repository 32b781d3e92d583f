// `make check-drift`: regenerate into a scratch directory and compare with the committed generated/.
// Exit 1 with the list of differing files when someone edited spec/ without `make generate`
// (or edited generated/ by hand).
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { generate } from './generate.ts';

const committed = 'generated';
// Inside the repo so generated declarations resolve packages (ajv) from node_modules while checked.
const scratch = path.join('node_modules', '.cache', 'chatapi', 'generated-check');

const list = (dir: string) => (existsSync(dir) ? readdirSync(dir).sort() : []);

async function main(): Promise<void> {
  rmSync(scratch, { recursive: true, force: true });
  mkdirSync(scratch, { recursive: true });
  await generate('spec', scratch);
  const fresh = list(scratch);
  const problems: string[] = [];
  for (const name of new Set([...fresh, ...list(committed)])) {
    const a = path.join(committed, name);
    const b = path.join(scratch, name);
    if (!existsSync(a)) problems.push(`  missing   ${a}`);
    else if (!existsSync(b)) problems.push(`  extra     ${a} (spec/ no longer generates it)`);
    else if (!readFileSync(a).equals(readFileSync(b))) problems.push(`  differs   ${a}`);
  }
  rmSync(scratch, { recursive: true, force: true });
  if (problems.length) {
    console.error(`generated/ is out of date with spec/:\n${problems.sort().join('\n')}`);
    console.error('run `make generate` and commit generated/ together with the spec change (never edit generated/ by hand)');
    process.exit(1);
  }
  console.log(`generated/ matches spec/ (${fresh.length} files)`);
}

main().catch((err: unknown) => {
  console.error(`drift check failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});

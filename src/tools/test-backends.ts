// `make test` bookends.
//   plan            print which database backends the suite will exercise, from the environment
//                   (the same rule as test/helpers/backends.ts: sqlite always, mysql when MYSQL_URL or
//                   DATABASE_URL=mysql://… is set).
//   exercised TAP   print which backends tests actually ran against, from the TAP results: a backend
//                   counts when at least one passing test or suite has its name in its title, e.g.
//                   describe(`messages [${backend.name}]`). .ci/run greps this line for "mysql".
import { readFileSync } from 'node:fs';

const BACKENDS = ['sqlite', 'mysql'] as const;

export function plannedBackends(env: NodeJS.ProcessEnv = process.env): string[] {
  const mysql = Boolean(env.MYSQL_URL) || /^mysql:\/\//.test(env.DATABASE_URL ?? '');
  return mysql ? ['sqlite', 'mysql'] : ['sqlite'];
}

/** Count passing (not skipped, not todo) TAP results whose title names each backend. */
export function exercisedBackends(tap: string): Map<string, number> {
  const counts = new Map<string, number>(BACKENDS.map((b) => [b, 0]));
  for (const line of tap.split('\n')) {
    const m = /^\s*ok \d+ - (.*)$/.exec(line);
    if (!m || /#\s*(SKIP|TODO)\b/i.test(m[1]!)) continue;
    for (const b of BACKENDS) if (new RegExp(`\\b${b}\\b`, 'i').test(m[1]!)) counts.set(b, counts.get(b)! + 1);
  }
  return counts;
}

function main(): void {
  const [mode, file] = process.argv.slice(2);
  if (mode === 'plan') {
    console.log(`backends: ${plannedBackends().join(', ')}`);
    return;
  }
  if (mode === 'exercised' && file) {
    const counts = exercisedBackends(readFileSync(file, 'utf8'));
    const ran = [...counts].filter(([, n]) => n > 0);
    const detail = [...counts].map(([b, n]) => `${b} ${n}`).join(', ');
    console.log(`backends exercised: ${ran.map(([b]) => b).join(', ') || 'none'} (passing tests per backend: ${detail})`);
    const missing = plannedBackends().filter((b) => !counts.get(b));
    if (missing.length) console.log(`warning: no passing test named a planned backend: ${missing.join(', ')}`);
    return;
  }
  console.error('usage: test-backends.ts plan | exercised <results.tap>');
  process.exit(2);
}

main();

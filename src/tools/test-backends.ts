// `make test` bookends.
//   plan            print which database backends the suite will exercise, from the environment
//                   (the same rule as test/helpers/backends.ts: sqlite always, mysql when MYSQL_URL or
//                   DATABASE_URL=mysql://… is set).
//   exercised TAP   print which backends tests actually ran against, from the TAP results: a backend
//                   counts when at least one passing (not skipped) test has the backend's name in its
//                   own or a parent suite's title, e.g. describe(`messages [${backend.name}]`).
//                   .ci/run greps this line for "mysql".
import { readFileSync } from 'node:fs';

const BACKENDS = ['sqlite', 'mysql'] as const;

export function plannedBackends(env: NodeJS.ProcessEnv = process.env): string[] {
  const mysql = Boolean(env.MYSQL_URL) || /^mysql:\/\//.test(env.DATABASE_URL ?? '');
  return mysql ? ['sqlite', 'mysql'] : ['sqlite'];
}

interface TapResult {
  name: string;
  passed: boolean; // ok, and neither skipped nor todo
  children: TapResult[];
}

/** Node's TAP nests subtests by 4 spaces and prints a parent's result line after its children. */
export function parseTap(tap: string): TapResult[] {
  const pending: TapResult[][] = [[]];
  for (const line of tap.split('\n')) {
    const m = /^( *)(not ok|ok) \d+ - (.*)$/.exec(line);
    if (!m) continue;
    const depth = m[1]!.length / 4;
    const directive = /\s#\s*(SKIP|TODO)\b/i.test(m[3]!);
    const name = m[3]!.replace(/\s#\s*(SKIP|TODO)\b.*$/i, '');
    const node = { name, passed: m[2] === 'ok' && !directive, children: pending[depth + 1] ?? [] };
    pending[depth + 1] = [];
    (pending[depth] ??= []).push(node);
  }
  return pending[0]!;
}

/** Passing leaf tests per backend: a test counts for a backend its own title or a parent's names. */
export function exercisedBackends(tap: string): Map<string, number> {
  const counts = new Map<string, number>(BACKENDS.map((b) => [b, 0]));
  const visit = (node: TapResult, titles: string[]) => {
    const path = [...titles, node.name];
    if (node.children.length) return node.children.forEach((c) => visit(c, path));
    if (!node.passed) return;
    for (const b of BACKENDS) if (path.some((t) => new RegExp(`\\b${b}\\b`, 'i').test(t))) counts.set(b, counts.get(b)! + 1);
  };
  for (const root of parseTap(tap)) visit(root, []);
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

/**
 * What a named closure costs when it is made once per send (issue 12, nineteenth round).
 *
 * The node runs its TypeScript through tsx, which compiles with esbuild's `keepNames`: every
 * function whose name JavaScript would infer (`const f = () => …`, `{ f: () => … }`) is wrapped
 * in `__name(fn, "f")`, an Object.defineProperty of its `name`. Made once at module load, that is
 * free; made per call, it is the dearest thing in the call. A callback passed inline (no name to
 * keep), a module-level function or a class's method is not wrapped. This prints, per call:
 *   - named:  `const f = () => x + 1; return call(f)` (what tsx wraps);
 *   - inline: `return call(() => x + 1)`;
 *   - method: `return call2(new Adder(x))`, the object calling its method (RunAnswers in
 *     ws/dispatch.ts).
 * It also says whether this process compiled `named` with the wrapper, so a run under another
 * loader (or a tsx without keepNames) shows it.
 *
 *   node --import tsx load/bench/keep-names.ts [--n 2000000]
 */
import { parseArgs } from 'node:util';

const { values: a } = parseArgs({ options: { n: { type: 'string', default: '2000000' } } });
const n = Number(a.n);

const call = (f: () => number): number => f();
const callMethod = (o: { next(): number }): number => o.next();

function named(x: number): number {
  const f = () => x + 1;
  return call(f);
}

function inline(x: number): number {
  return call(() => x + 1);
}

class Adder {
  constructor(private readonly x: number) {}
  next(): number {
    return this.x + 1;
  }
}

function method(x: number): number {
  return callMethod(new Adder(x));
}

console.log(`named closures wrapped by this loader: ${named.toString().includes('__name(') ? 'yes' : 'no'}`);
const ways: Record<string, (x: number) => number> = { named, inline, method };
for (let round = 0; round < 2; round++) {
  for (const [name, fn] of Object.entries(ways)) {
    let sum = 0;
    const t = process.hrtime.bigint();
    for (let i = 0; i < n; i++) sum += fn(i);
    const ns = Number(process.hrtime.bigint() - t) / n;
    if (sum !== n * (n + 1) / 2) throw new Error(`${name}: wrong sum ${sum}`);
    if (round === 1) console.log(`${name.padEnd(8)} ${ns.toFixed(1).padStart(8)} ns per call`);
  }
}

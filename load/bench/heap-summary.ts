/**
 * Where a sampled allocation profile's bytes went (a .heapprofile from load/lib/heap-sample.cjs,
 * e.g. `CHATAPI_HEAP_SAMPLE=/tmp/h node --import tsx load/bench/ws-send-cpu.ts --rooms 500 --size 10`):
 * the functions that allocated most themselves ("self") and the call-tree frames most was allocated
 * under ("inclusive", each frame counted once per stack), as shares of the total, and as bytes per
 * message when `--messages` gives how many the window handled.
 *
 *   node --import tsx load/bench/heap-summary.ts <file.heapprofile> [--top 25] [--messages N]
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface ProfileNode {
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  selfSize: number;
  children: ProfileNode[];
}

const { values: a, positionals } = parseArgs({
  allowPositionals: true,
  options: { top: { type: 'string', default: '25' }, messages: { type: 'string' } },
});
if (positionals.length !== 1) throw new Error('usage: heap-summary.ts <file.heapprofile> [--top 25] [--messages N]');
const head = (JSON.parse(readFileSync(positionals[0]!, 'utf8')) as { head: ProfileNode }).head;

/** A frame's name: function, then the file below the repository (src/…, node_modules/…) and its column. */
const frameName = ({ callFrame: f }: ProfileNode) =>
  `${f.functionName || '(anonymous)'} ${f.url.replace(/^.*?\/(src|load|node_modules|generated)\//, '$1/') || '(native)'}${f.url ? `:${f.lineNumber + 1}:${f.columnNumber + 1}` : ''}`;

const self = new Map<string, number>();
const inclusive = new Map<string, number>();
let total = 0;
(function walk(node: ProfileNode, stack: Set<string>) {
  const name = frameName(node);
  const below = stack.has(name) ? stack : new Set(stack).add(name);
  if (node.selfSize > 0) {
    total += node.selfSize;
    self.set(name, (self.get(name) ?? 0) + node.selfSize);
    for (const frame of below) inclusive.set(frame, (inclusive.get(frame) ?? 0) + node.selfSize);
  }
  for (const child of node.children) walk(child, below);
})(head, new Set());

const perMessage = a.messages ? Number(a.messages) : undefined;
const row = ([name, bytes]: [string, number]) =>
  `${((100 * bytes) / total).toFixed(1).padStart(6)}%${perMessage ? `${Math.round(bytes / perMessage).toLocaleString('en-US').padStart(9)} B/msg` : ''}  ${name}`;
const top = (m: Map<string, number>) => [...m].filter(([name]) => !name.startsWith('(root)')).sort((x, y) => y[1] - x[1]).slice(0, Number(a.top));

console.log(`${(total / 1e6).toFixed(1)} MB sampled${perMessage ? `, ${Math.round(total / perMessage).toLocaleString('en-US')} B per message` : ''}`);
console.log('\nself (allocated by the function itself, inlined callees included):');
for (const r of top(self)) console.log(row(r));
console.log('\ninclusive (allocated under the frame):');
for (const r of top(inclusive)) console.log(row(r));

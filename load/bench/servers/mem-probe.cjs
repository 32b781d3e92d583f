// Preloaded (NODE_OPTIONS=--require) into benchmark server children by load/bench/conn-memory.ts:
// on the IPC message {type:'mem', gc} it optionally runs a full GC and answers with the process's
// memory figures, so RSS and the V8 heap are read the same way for every subject.
const v8 = require('node:v8');
const vm = require('node:vm');
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc');
process.on('message', (m) => {
  if (!m || m.type !== 'mem') return;
  if (m.gc) { gc(); gc(); }
  const u = process.memoryUsage();
  const spaces = Object.fromEntries(v8.getHeapSpaceStatistics().map((s) => [s.space_name, s.space_size]));
  process.send?.({ type: 'mem', rss: u.rss, heapTotal: u.heapTotal, heapUsed: u.heapUsed, external: u.external, arrayBuffers: u.arrayBuffers, newSpace: spaces.new_space ?? 0 });
});

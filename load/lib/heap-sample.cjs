/**
 * Preloaded into a benchmark's server child when CHATAPI_HEAP_SAMPLE=<dir> is set (processes.ts):
 * a sampling allocation profile of the child's main thread over a window the driver chooses. The
 * driver sends {type:'heap-sample', on:true} over IPC to start and {type:'heap-sample', on:false}
 * to stop; the child then writes <dir>/Heap.<pid>.<n>.heapprofile (Chrome DevTools' Memory panel
 * loads it; load/bench/heap-summary.ts prints it) and answers {type:'heap-sample-written', file, bytes},
 * or {type:'heap-sample-written', error} when it could not.
 *
 * Unlike `node --heap-prof`, it keeps the allocations that were already collected
 * (includeObjectsCollectedByMinorGC / MajorGC): what a hot path allocates, garbage included, which
 * is what drives the young generation's scavenges. V8 scales the samples, so `bytes` estimates
 * everything the thread allocated in the window.
 */
'use strict';
const { isMainThread } = require('node:worker_threads');

if (isMainThread && process.env.CHATAPI_HEAP_SAMPLE && process.send) {
  const inspector = require('node:inspector');
  const { mkdirSync, writeFileSync } = require('node:fs');
  const { join } = require('node:path');
  const dir = process.env.CHATAPI_HEAP_SAMPLE;
  const session = new inspector.Session();
  session.connect();
  let sampling = false;
  let written = 0;
  const post = (method, params) => new Promise((resolve, reject) => session.post(method, params, (err, res) => (err ? reject(err) : resolve(res))));
  const total = (node) => node.children.reduce((sum, child) => sum + total(child), node.selfSize);

  process.on('message', (m) => {
    if (!m || m.type !== 'heap-sample') return;
    if (m.on && !sampling) {
      sampling = true;
      post('HeapProfiler.enable')
        .then(() => post('HeapProfiler.startSampling', {
          samplingInterval: 8192, includeObjectsCollectedByMinorGC: true, includeObjectsCollectedByMajorGC: true,
        }))
        .catch((err) => console.error(`heap-sample: ${err}`));
    } else if (!m.on && sampling) {
      sampling = false;
      post('HeapProfiler.stopSampling')
        .then(({ profile }) => {
          mkdirSync(dir, { recursive: true }); // as --cpu-prof-dir does
          const file = join(dir, `Heap.${process.pid}.${++written}.heapprofile`);
          writeFileSync(file, JSON.stringify(profile));
          process.send({ type: 'heap-sample-written', file, bytes: total(profile.head) });
        })
        // answered either way: the driver waits for this message
        .catch((err) => process.send({ type: 'heap-sample-written', error: String(err) }));
    }
  });
}

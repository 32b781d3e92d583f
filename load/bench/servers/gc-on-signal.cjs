// Preloaded into the Soketi subject (node --expose-gc -r): SIGUSR2 runs a full GC, so the
// harness reads its baseline RSS after start-up garbage is gone (else the first connections'
// GC frees start-up memory and memory per connection comes out negative).
process.on('SIGUSR2', () => { if (typeof global.gc === 'function') global.gc(); });

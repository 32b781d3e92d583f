/**
 * Random bytes for ids minted on hot paths (connection ids, time-ordered message and event ids),
 * drawn from the kernel 4 KiB at a time: one getrandom call per few hundred ids instead of one
 * each (as crypto.randomUUID does internally). Cryptographically random like randomBytes.
 */
import { randomFillSync } from 'node:crypto';

const pool = Buffer.alloc(4096);
let used = pool.length;

/** `n` (≤ 4096) fresh random bytes. A view into the pool: use or copy them before the next call. */
export function pooledRandomBytes(n: number): Buffer {
  const at = take(n);
  return pool.subarray(at, at + n);
}

/** Fills `target` (≤ 4096 bytes) with fresh random bytes from the pool: no view allocated. */
export function fillRandom(target: Uint8Array): void {
  const at = take(target.length);
  pool.copy(target, 0, at, at + target.length);
}

/** Where the next `n` unused bytes of the pool start (refilled from the kernel when too few are left). */
function take(n: number): number {
  if (used + n > pool.length) {
    randomFillSync(pool);
    used = 0;
  }
  used += n;
  return used - n;
}

/**
 * Time-ordered ids (UUID version 7, RFC 9562) for rows written on every send: messages and their
 * outbox events. Both tables have a UNIQUE index on the id; a random (v4) id lands on a random
 * leaf page of that index, so a batch of N sends dirties ~N pages per index and its COMMIT writes
 * them all to the WAL (and SQLite checkpoints that much more often). A v7 id starts with the
 * millisecond timestamp, so new ids go to the right edge of the index: one page takes many of them.
 * The other 74 bits are random, so ids stay unguessable and unique across processes and nodes.
 */
import { randomFillSync } from 'node:crypto';

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
/** Random bytes are drawn in bulk (as crypto.randomUUID does): 10 per id. */
const POOL_IDS = 256;
const pool = Buffer.alloc(POOL_IDS * 10);
let at = pool.length;

/** 32 lowercase hex digits: 48-bit ms timestamp, version 7, 12 random bits, variant 10, 62 random bits. */
function hex32(ms: number): string {
  if (at === pool.length) {
    randomFillSync(pool);
    at = 0;
  }
  const r = at;
  at += 10;
  const hi = Math.floor(ms / 0x1000000); // top 24 of the 48 bits
  const lo = ms % 0x1000000;
  return (hi.toString(16).padStart(6, '0') + lo.toString(16).padStart(6, '0')
    + '7' + HEX[pool[r]!]!.slice(1) + HEX[pool[r + 1]!]
    + HEX[(pool[r + 2]! & 0x3f) | 0x80] + HEX[pool[r + 3]!]
    + HEX[pool[r + 4]!] + HEX[pool[r + 5]!] + HEX[pool[r + 6]!] + HEX[pool[r + 7]!] + HEX[pool[r + 8]!] + HEX[pool[r + 9]!]);
}

/** A UUIDv7 in the usual 8-4-4-4-12 form. */
export function uuidv7(ms = Date.now()): string {
  const h = hex32(ms);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** The same id as 32 hex digits without dashes (for prefixed ids such as `evt_…`). */
export function uuidv7Hex(ms = Date.now()): string {
  return hex32(ms);
}

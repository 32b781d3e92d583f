/**
 * Time-ordered ids (UUID version 7, RFC 9562, from the `uuid` package) for rows written on every
 * send: messages and their outbox events. Both tables have a UNIQUE index on the id; a random (v4)
 * id lands on a random leaf page of that index, so a batch of N sends dirties ~N pages per index
 * and its COMMIT writes them all to the WAL (and SQLite checkpoints that much more often). A v7 id
 * starts with the millisecond timestamp, so new ids go to the right edge of the index: one page
 * takes many of them. The rest is random (and a counter within a millisecond), so ids stay
 * unguessable and unique across processes and nodes.
 *
 * Every send takes an id, so the bytes are laid out by `uuid` into one reused array, from random
 * bytes copied out of the pool (random-pool.ts), and written out as text once: uuid's own
 * stringify joins 21 pieces (a chain of ~20 intermediate strings, then a copy), about 1.2 KB of
 * garbage per id with its array and the pool's view, against one 36-character string here.
 */
import { v7 } from 'uuid';
import { fillRandom } from '../random-pool.ts';

const random = new Uint8Array(16);
const bytes = new Uint8Array(16);
const text = Buffer.alloc(36);
const HEX = Buffer.from('0123456789abcdef', 'latin1');

/** A UUIDv7 in the usual 8-4-4-4-12 form (`ms`: the timestamp it carries, now unless given). */
export function uuidv7(ms?: number): string {
  fillRandom(random); // uuid's own source would draw 16 bytes per id (6 µs an id here, 0.9 µs from the pool)
  v7(ms === undefined ? { random } : { random, msecs: ms }, bytes, 0);
  let o = 0;
  for (let i = 0; i < 16; i++) {
    if (i === 4 || i === 6 || i === 8 || i === 10) text[o++] = 0x2d; // '-'
    const b = bytes[i]!;
    text[o++] = HEX[b >> 4]!;
    text[o++] = HEX[b & 15]!;
  }
  return text.toString('latin1', 0, 36);
}

/** The same id as 32 hex digits without dashes (for prefixed ids such as `evt_…`). */
export function uuidv7Hex(ms?: number): string {
  return uuidv7(ms).replaceAll('-', '');
}

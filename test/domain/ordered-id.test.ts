import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { uuidv7, uuidv7Hex } from '../../src/store/ordered-id.ts';

const V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('time-ordered ids (UUIDv7)', () => {
  test('are RFC 9562 version 7 UUIDs carrying the millisecond timestamp', () => {
    const ms = Date.UTC(2026, 10, 30, 12, 0, 0, 123);
    const id = uuidv7(ms);
    assert.match(id, V7);
    assert.equal(parseInt(id.replaceAll('-', '').slice(0, 12), 16), ms);
    assert.equal(uuidv7(0).slice(0, 13), '00000000-0000');
    assert.equal(parseInt(uuidv7(2 ** 48 - 1).replaceAll('-', '').slice(0, 12), 16), 2 ** 48 - 1);
    assert.match(uuidv7Hex(ms), /^[0-9a-f]{12}7[0-9a-f]{3}[89ab][0-9a-f]{15}$/);
  });

  test('sort by creation time across milliseconds, and never repeat', () => {
    const ids: string[] = [];
    for (let ms = 1_700_000_000_000; ms < 1_700_000_000_000 + 3000; ms++) ids.push(uuidv7(ms), uuidv7(ms));
    assert.deepEqual([...ids].sort().map((id) => id.slice(0, 13)), ids.map((id) => id.slice(0, 13)));
    const many = new Set(Array.from({ length: 20_000 }, () => uuidv7Hex(1)));
    assert.equal(many.size, 20_000, 'the 74 random bits differ even within one millisecond');
  });
});

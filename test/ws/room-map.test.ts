/** RoomMap (src/ws/room-map.ts) behaves like a Map for the operations the node uses, inline or not. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RoomMap } from '../../src/ws/room-map.ts';

test('one entry inline, a Map from the second on, insertion order kept', () => {
  const rooms = new RoomMap<number>();
  assert.equal(rooms.size, 0);
  assert.deepEqual([...rooms], []);
  assert.equal(rooms.has('a'), false);
  assert.equal(rooms.delete('a'), false);
  rooms.set('a', 1).set('a', 2);
  assert.equal(rooms.size, 1);
  assert.equal(rooms.get('a'), 2);
  assert.equal(rooms.get('b'), undefined);
  assert.deepEqual([...rooms.keys()], ['a']);
  assert.deepEqual([...rooms], [['a', 2]]);
  rooms.set('b', 3).set('c', 4);
  assert.deepEqual([...rooms], [['a', 2], ['b', 3], ['c', 4]]);
  assert.equal(rooms.delete('a'), true);
  assert.deepEqual([...rooms.keys()], ['b', 'c']);
  assert.equal(rooms.has('a'), false);
  assert.equal(rooms.size, 2);
});

test('deleting the inline entry empties it; a new one takes its place', () => {
  const rooms = new RoomMap<string>();
  rooms.set('x', 'one');
  assert.equal(rooms.delete('y'), false);
  assert.equal(rooms.delete('x'), true);
  assert.equal(rooms.size, 0);
  assert.equal(rooms.get('x'), undefined);
  rooms.set('y', 'two');
  assert.deepEqual([...rooms.entries()], [['y', 'two']]);
});

/**
 * What a WebSocket session keeps of its user (callerUser): id, role and permissions, with one
 * shared, frozen permissions object per distinct set, so a node's sessions do not each hold a copy.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { callerUser, defaultPermissions } from '../../src/domain/permissions.ts';
import type { User } from '../../src/domain/shapes.ts';

const user = (id: string, permissions: User['permissions']): User => ({
  id, username: id, email: null, display_name: null, role: 'user', permissions,
  created_at: '2026-12-02T00:00:00.000Z', updated_at: '2026-12-02T00:00:00.000Z',
});

test('keeps the id, the role and the permissions, nothing else', () => {
  const me = callerUser({ ...user('u1', defaultPermissions('user')), role: 'staff' });
  assert.deepEqual(me, { id: 'u1', role: 'staff', permissions: defaultPermissions('user') });
});

test('users with the same permissions share one frozen object; other permissions get their own', () => {
  const a = callerUser(user('a', defaultPermissions('user')));
  const b = callerUser(user('b', { ...defaultPermissions('user') }));
  const muted = callerUser(user('c', { ...defaultPermissions('user'), can_send_message: false }));
  assert.equal(a.permissions, b.permissions);
  assert.notEqual(a.permissions, muted.permissions);
  assert.equal(muted.permissions.can_send_message, false);
  assert.equal(a.permissions.can_send_message, true);
  assert.ok(Object.isFrozen(a.permissions));
  assert.throws(() => { (a.permissions as { can_send_message: boolean }).can_send_message = false; }, TypeError);
  assert.equal(b.permissions.can_send_message, true);
});

test('the record it came from stays the caller\'s own (not frozen, not shared)', () => {
  const record = user('d', defaultPermissions('moderator'));
  const me = callerUser(record);
  assert.notEqual(me.permissions, record.permissions);
  assert.ok(!Object.isFrozen(record.permissions));
  assert.deepEqual(me.permissions, record.permissions);
});

test('permissions with flags it does not know are kept as they are', () => {
  const odd = { ...defaultPermissions('user'), can_fly: true } as unknown as User['permissions'];
  assert.equal(callerUser(user('e', odd)).permissions, odd);
});

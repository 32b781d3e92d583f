import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createDomain } from '../../src/domain/index.ts';
import { closeDatabase, driver, migrate, openDatabase, redact } from '../../src/store/db.ts';
import { backends } from '../helpers/backends.ts';
import { config } from './harness.ts';

const silent = { warn() {}, error() {} };

describe('database urls', () => {
  test('unsupported or incomplete urls fail clearly, without the password', async () => {
    await assert.rejects(openDatabase('postgres://u:pw@h/db'), /Unsupported DATABASE_URL "postgres:\/\/u:\*\*\*@h\/db"/);
    await assert.rejects(openDatabase('sqlite:'), /needs a file path/);
    await assert.rejects(openDatabase('mysql://root:secret@127.0.0.1:3306/'), (err: Error) => /names no database/.test(err.message) && !err.message.includes('secret'));
    assert.equal(redact('mysql://root:pw@h:1/db'), 'mysql://root:***@h:1/db');
  });
});

for (const backend of backends()) {
  describe(`store (${backend.name})`, () => {
    test('migrate is idempotent, health writes, and a dead database reports not ok', async (t) => {
      const target = await backend.url();
      t.after(() => target.drop());
      const db = await openDatabase(target.url);
      await migrate(db);
      await migrate(db); // a second node starting against the same database
      assert.equal(driver(db), backend.name);
      const domain = createDomain({ db, bus: { publish() {} }, config, log: silent, now: () => 1234 });
      assert.deepEqual(await domain.health.check(), { database: { ok: true, writable: true, driver: backend.name } });
      assert.equal(Number((await db('health_probe').first()).checked_at), 1234);
      await closeDatabase(db);
      assert.deepEqual(await domain.health.check(), { database: { ok: false, writable: false, driver: backend.name } });
    });

    test('a send after the database is closed fails instead of hanging', async (t) => {
      const target = await backend.url();
      t.after(() => target.drop());
      const db = await openDatabase(target.url);
      await migrate(db);
      const domain = createDomain({ db, bus: { publish() {} }, config, log: silent });
      const { tenant } = await domain.tenants.create({ name: 't' });
      const user = await domain.users.create({ kind: 'tenant', tenantId: tenant.id }, { id: 'a', username: 'a' });
      const me = { kind: 'user' as const, tenantId: tenant.id, user, via: 'key' as const };
      const { room } = await domain.rooms.create(me, { type: 'group', name: 'g', members: [] });
      assert.equal((await domain.messages.send(me, room.id, { content: 'hi' })).message.seq, 1);
      await closeDatabase(db);
      await assert.rejects(domain.messages.send(me, room.id, { content: 'too late' }));
    });
  });
}

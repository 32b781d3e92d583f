import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config.ts';
import { closeDatabase, durabilitySettings, openDatabase } from '../../src/store/db.ts';
import { backends } from '../helpers/backends.ts';

describe('durability settings', () => {
  test('SQLITE_SYNCHRONOUS defaults to FULL, accepts NORMAL, refuses anything else', () => {
    assert.equal(loadConfig({}).sqliteSynchronous, 'FULL');
    assert.equal(loadConfig({ SQLITE_SYNCHRONOUS: 'normal' }).sqliteSynchronous, 'NORMAL');
    assert.throws(() => loadConfig({ SQLITE_SYNCHRONOUS: 'OFF' }), ConfigError);
  });

  for (const backend of backends()) {
    test(`the database reports the settings it runs with (${backend.name})`, async () => {
      for (const sqliteSynchronous of ['FULL', 'NORMAL'] as const) {
        const target = await backend.url();
        const db = await openDatabase(target.url, { sqliteSynchronous });
        try {
          const settings = await durabilitySettings(db);
          if (backend.name === 'sqlite') assert.deepEqual(settings, { journal_mode: 'wal', synchronous: sqliteSynchronous });
          else assert.equal(typeof settings.innodb_flush_log_at_trx_commit, 'number');
        } finally {
          await closeDatabase(db);
          await target.drop();
        }
      }
    });
  }
});

/**
 * The node reads its database's durability settings at start, logs them, and refuses to start
 * when they cannot keep "acknowledged = durable" (src/store/durability.ts; issue 7).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { backends } from '../helpers/backends.ts';
import { closeDatabase, openDatabase } from '../../src/store/db.ts';
import { checkDurability } from '../../src/store/durability.ts';

function collectingLog() {
  const lines: { level: string; obj: object; msg?: string }[] = [];
  return {
    lines,
    info: (obj: object, msg?: string) => void lines.push({ level: 'info', obj, msg }),
    warn: (obj: object, msg?: string) => void lines.push({ level: 'warn', obj, msg }),
  };
}

for (const backend of backends()) {
  describe(`durability settings [${backend.name}]`, () => {
    test('read and logged at start', async (t) => {
      const target = await backend.url();
      const db = await openDatabase(target.url);
      t.after(async () => { await closeDatabase(db); await target.drop(); });
      const log = collectingLog();
      const d = await checkDurability(db, log);
      assert.equal(log.lines.length, 1);
      assert.match(log.lines[0]!.msg!, /database durability/);
      if (backend.name === 'sqlite') assert.ok(['NORMAL', 'FULL', 'EXTRA'].includes(String(d.settings.synchronous)), JSON.stringify(d));
      else assert.ok([1, 2].includes(Number(d.settings.innodb_flush_log_at_trx_commit)), JSON.stringify(d));
      assert.deepEqual(log.lines[0]!.obj, { driver: backend.name, ...d.settings, survives: d.survives });
    });

    if (backend.name === 'sqlite') {
      test('synchronous = OFF refuses to start, naming the setting', async (t) => {
        const target = await backend.url();
        const db = await openDatabase(target.url);
        t.after(async () => { await closeDatabase(db); await target.drop(); });
        await db.raw('PRAGMA synchronous = OFF'); // the pool's one connection
        await assert.rejects(checkDurability(db, collectingLog()), /Refusing to start: PRAGMA synchronous is OFF/);
      });
    }
  });
}

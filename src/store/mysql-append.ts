/**
 * The batched send transaction on MySQL/MariaDB (queued by group-commit.ts): one transaction per
 * batch, whatever its size. The statements are those of mysql-batch.ts, which sends them in two
 * round trips (the locking reads, then the writes and COMMIT). A batch holding a send with an
 * `afterInsert` hook (which needs a knex transaction) runs the same reads and writes through knex.
 *
 * Holding each room's row lock from the first statement to COMMIT keeps every room's seq gap-free
 * across batches and nodes: seqs are last_seq + 1, + 2 … in queue order. Idempotent repeats are
 * rare, so keys are not looked up first: when the INSERT hits the unique index the batch is rolled
 * back and run again with a lookup of its keys (SELECT … FROM messages WHERE (room, sender, key) …),
 * and a send whose key is already stored (or used earlier in the same batch) fails with the
 * duplicate-key error its INSERT would have raised; the caller answers the original. If the batch fails for any other
 * reason (a hook throws, an unforeseen constraint) nothing of it is stored and each send is run
 * again in a transaction of its own, so each gets its own outcome. Deadlocks retry the batch.
 */
import type { Knex } from 'knex';
import { isRetryable, isUniqueViolation } from './db.ts';
import { backoff, MAX_ATTEMPTS, type AppendRequest, type AppendResult } from './append-types.ts';
import type { Outcome } from './group-commit.ts';
import { type BatchReads, planBatch, readStatements, runBatchScript, writeScript } from './mysql-batch.ts';

export async function runMysqlBatch(knex: Knex, batch: AppendRequest[]): Promise<Outcome<AppendResult>[]> {
  let checkKeys = false;
  for (let attempt = 1; ; attempt++) {
    try {
      if (!batch.some((r) => r.afterInsert)) return await runBatchScript(knex, batch, checkKeys);
      return await knex.transaction((trx) => storeBatch(trx, batch, checkKeys));
    } catch (err) {
      if (isUniqueViolation(err) && !checkKeys) {
        checkKeys = true; // a repeat: look the batch's keys up first this time
        continue;
      }
      if (isRetryable(err) && attempt < MAX_ATTEMPTS) {
        await backoff(attempt);
        continue;
      }
      if (batch.length > 1 && !isRetryable(err)) return oneByOne(knex, batch);
      throw err;
    }
  }
}

/** The rare path: each send in its own transaction, so one send's failure is its own. */
async function oneByOne(knex: Knex, batch: AppendRequest[]): Promise<Outcome<AppendResult>[]> {
  const outcomes: Outcome<AppendResult>[] = [];
  for (const req of batch) {
    try {
      outcomes.push((await runMysqlBatch(knex, [req]))[0]!);
    } catch (err) {
      outcomes.push({ err });
    }
  }
  return outcomes;
}

type Rows<T> = [T[], unknown];

/** The same statements through a knex transaction, with each stored send's afterInsert hook before COMMIT. */
async function storeBatch(trx: Knex.Transaction, batch: AppendRequest[], checkKeys: boolean): Promise<Outcome<AppendResult>[]> {
  const found: unknown[][] = [];
  for (const s of readStatements(batch, checkKeys)) found.push(((await trx.raw(s.sql, s.bindings as Knex.RawBinding[])) as Rows<unknown>)[0]);
  const [rooms, members, webhooks, usedKeys] = found;
  const plan = planBatch(batch, { rooms, members, webhooks, usedKeys: usedKeys ?? [] } as BatchReads, batch[0]!.now());
  if (plan.stored.length === 0) return plan.outcomes;
  const writes = writeScript(plan);
  await trx.raw(writes.sql, writes.bindings as Knex.RawBinding[]);
  for (const { row, req } of plan.stored) if (req.afterInsert) await req.afterInsert(trx, row);
  return plan.outcomes;
}

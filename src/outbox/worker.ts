/**
 * The delivery worker every chatapi process runs: dispatch new outbox events into deliveries,
 * claim the due ones, try them. It polls every `pollMs` and is woken at once when this process
 * commits an event (so a local change is delivered without waiting for the poll). Several
 * processes on one database share the work without delivering anything twice (see claimDue).
 */
import type { Knex } from 'knex';
import { claimDue } from '../store/deliveries.ts';
import { deliverClaimed, type DeliverDeps } from './deliver.ts';
import { dispatchBatch } from './dispatch.ts';

export interface OutboxWorkerOptions extends Omit<DeliverDeps, 'db' | 'now' | 'random'> {
  db: Knex;
  now?: () => number;
  random?: () => number;
  leaseMs: number;
  pollMs: number;
  concurrency: number;
  log: DeliverDeps['log'] & { error(obj: object, msg?: string): void };
}

export interface OutboxWorker {
  /** One round: dispatch everything pending, then try every due delivery once; returns attempts made. */
  runOnce(): Promise<number>;
  /** Ask the loop for a round now (something was committed). */
  wake(): void;
  start(): void;
  stop(): Promise<void>;
}

export function createOutboxWorker(o: OutboxWorkerOptions): OutboxWorker {
  const deps: DeliverDeps = { ...o, now: o.now ?? Date.now, random: o.random ?? Math.random };
  let running = false;
  let loop: Promise<void> | undefined;
  let wakeUp: (() => void) | undefined;
  let woken = false;

  async function runOnce(): Promise<number> {
    while ((await dispatchBatch(o.db, deps.now())) > 0);
    const now = deps.now();
    const claimed = await claimDue(o.db, now, now + o.leaseMs, o.concurrency);
    await deliverClaimed(deps, claimed);
    return claimed.length;
  }

  const pause = () => new Promise<void>((resolve) => {
    if (woken || !running) return resolve();
    const timer = setTimeout(done, o.pollMs);
    function done() {
      clearTimeout(timer);
      wakeUp = undefined;
      resolve();
    }
    wakeUp = done;
  });

  async function run(): Promise<void> {
    while (running) {
      woken = false;
      let attempts = 0;
      try {
        attempts = await runOnce();
      } catch (err) {
        o.log.error({ err }, 'outbox round failed');
      }
      if (attempts === 0) await pause();
    }
  }

  return {
    runOnce,
    wake() {
      woken = true;
      wakeUp?.();
    },
    start() {
      if (running) return;
      running = true;
      loop = run();
    },
    async stop() {
      running = false;
      wakeUp?.();
      await loop;
    },
  };
}

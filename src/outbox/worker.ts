/**
 * The delivery worker every chatapi process runs: dispatch new outbox events into deliveries,
 * claim the due ones, try them, up to `concurrency` attempts in flight (a slow endpoint holds
 * only its own slots). It polls every `pollMs` and is woken at once when this process commits an
 * event or an attempt ends. Several processes on one database share the work without delivering
 * anything twice (see claimDue).
 */
import type { Knex } from 'knex';
import { claimDue } from '../store/deliveries.ts';
import { startDeliveries, type DeliverDeps } from './deliver.ts';
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
  /** One round, waiting for its attempts to be recorded: returns how many it started. */
  runOnce(): Promise<number>;
  /** Ask the loop for a round now (something was committed). */
  wake(): void;
  start(): void;
  stop(): Promise<void>;
}

export function createOutboxWorker(o: OutboxWorkerOptions): OutboxWorker {
  const deps: DeliverDeps = { ...o, now: o.now ?? Date.now, random: o.random ?? Math.random };
  const inFlight = new Set<Promise<void>>();
  let running = false;
  let loop: Promise<void> | undefined;
  let wakeUp: (() => void) | undefined;
  let woken = false;
  const wake = () => {
    woken = true;
    wakeUp?.();
  };

  /** Dispatches what is new, then claims as many due deliveries as there are free slots. */
  async function round(): Promise<number> {
    while ((await dispatchBatch(o.db, deps.now())) > 0);
    const free = o.concurrency - inFlight.size;
    if (free <= 0) return 0;
    const now = deps.now();
    const claimed = await claimDue(o.db, now, now + o.leaseMs, free);
    for (const attempt of await startDeliveries(deps, claimed)) {
      inFlight.add(attempt);
      void attempt.then(() => {
        inFlight.delete(attempt);
        wake(); // its lane's next delivery may be due now
      });
    }
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
      let started = 0;
      try {
        started = await round();
      } catch (err) {
        o.log.error({ err }, 'outbox round failed');
      }
      if (started === 0) await pause();
    }
    await Promise.all(inFlight);
  }

  return {
    async runOnce() {
      const started = await round();
      await Promise.all(inFlight);
      return started;
    },
    wake,
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

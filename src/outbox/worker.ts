/**
 * The delivery worker every chatapi process runs: dispatch new outbox events into deliveries,
 * claim the due ones, try them, up to `concurrency` attempts in flight (a slow endpoint holds
 * only its own slots), and record finished attempts together at the start of the next round. It polls every `pollMs` and is woken at once when this process commits an
 * event or an attempt ends. Several processes on one database share the work without delivering
 * anything twice (see claimDue).
 */
import type { Knex } from 'knex';
import { claimDue } from '../store/deliveries.ts';
import { settleAll, startDeliveries, type DeliverDeps, type Outcome } from './deliver.ts';
import { dispatchBatch } from './dispatch.ts';

export interface OutboxWorkerOptions extends Omit<DeliverDeps, 'db' | 'now' | 'random'> {
  db: Knex;
  now?: () => number;
  random?: () => number;
  leaseMs: number;
  pollMs: number;
  /** Least time between the starts of two rounds (MIN_ROUND_GAP_MS unless given; 0: none). */
  minRoundGapMs?: number;
  /** Called as each round begins (tests, benchmarks). */
  onRound?(): void;
  concurrency: number;
  log: DeliverDeps['log'] & { error(obj: object, msg?: string): void };
}

export interface OutboxWorker {
  /** One round, waiting for its attempts to be recorded: returns how many it started. */
  runOnce(): Promise<number>;
  /** Ask the loop for a round now (something was committed). */
  wake(): void;
  start(): void;
  /** Stops the loop once its attempts in flight are recorded (start() again resumes). */
  stop(): Promise<void>;
  /** stop(), and let go of what the worker was given (the bus subscription). */
  close(): Promise<void>;
}

/**
 * Under a stream of sends every batch wakes the worker; rounds back to back would each pay a
 * dispatch transaction (and its synced COMMIT) for a handful of events. At most one round per
 * 25 ms batches them, and adds at most that much to a webhook's delay.
 */
export const MIN_ROUND_GAP_MS = 25;

export function createOutboxWorker(o: OutboxWorkerOptions): OutboxWorker {
  const minGapMs = o.minRoundGapMs ?? MIN_ROUND_GAP_MS;
  const deps: DeliverDeps = { ...o, now: o.now ?? Date.now, random: o.random ?? Math.random };
  const inFlight = new Set<Promise<unknown>>();
  /** Attempts done but not recorded yet: the next round records them together. */
  const done: Outcome[] = [];
  /** Records the finished attempts, claims up to `limit` more, in one transaction. */
  async function settleAndClaim(limit: number) {
    const outcomes = done.splice(0);
    const now = deps.now();
    try {
      const claimed = await claimDue(o.db, now, now + o.leaseMs, limit, outcomes.length ? (trx) => settleAll(trx, deps, outcomes) : undefined);
      for (const x of outcomes) deps.onAttempt?.(x.d, x.attempt);
      return claimed;
    } catch (err) {
      // Not recorded: their leases run out and they are tried again (at least once).
      o.log.warn({ err, attempts: outcomes.length }, 'webhook outcomes not recorded');
      return [];
    }
  }
  const flush = async () => {
    if (done.length) await settleAndClaim(0);
  };
  let running = false;
  let loop: Promise<void> | undefined;
  let wakeUp: (() => void) | undefined;
  let woken = false;
  const wake = () => {
    woken = true;
    wakeUp?.();
  };

  /** Dispatches what is new, then records finished attempts and claims as many due deliveries as there are free slots. */
  async function round(): Promise<number> {
    while ((await dispatchBatch(o.db, deps.now())) > 0);
    const claimed = await settleAndClaim(Math.max(0, o.concurrency - inFlight.size));
    for (const attempt of await startDeliveries(deps, claimed)) {
      inFlight.add(attempt);
      void attempt.then((outcome) => {
        inFlight.delete(attempt);
        if (outcome) done.push(outcome);
        wake(); // record it: its lane's next delivery may be due then
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
    let lastStart = -Infinity;
    while (running) {
      // Let I/O run between rounds: on SQLite a round can complete in microtasks alone, and
      // without this the answers of the attempts in flight (and REST requests) would wait.
      const wait = lastStart + minGapMs - performance.now();
      await new Promise((resolve) => (wait > 0 ? setTimeout(resolve, wait) : setImmediate(resolve)));
      woken = false;
      lastStart = performance.now();
      o.onRound?.();
      let started = 0;
      try {
        started = await round();
      } catch (err) {
        o.log.error({ err }, 'outbox round failed');
      }
      if (started === 0) await pause();
    }
    await Promise.all(inFlight);
    await flush();
  }

  const worker: OutboxWorker = {
    async runOnce() {
      const started = await round();
      await Promise.all(inFlight);
      await flush();
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
    close: () => worker.stop(),
  };
  return worker;
}

/**
 * The retry schedule (documented in spec/openapi.yaml § Webhooks and the README): after the
 * n-th failed attempt the next one waits DELAYS_MS[n-1], shortened by a random 0–20 % so that
 * endpoints recovering together are not hit in lockstep. 11 attempts over at most ~23.7 h; a
 * delivery whose last attempt fails is dead.
 */
const S = 1000;
const M = 60 * S;
const H = 60 * M;

export const DELAYS_MS: readonly number[] = [5 * S, 30 * S, 2 * M, 10 * M, 30 * M, 1 * H, 2 * H, 4 * H, 8 * H, 8 * H];
export const MAX_ATTEMPTS = DELAYS_MS.length + 1;
const JITTER = 0.2;

/** Milliseconds until the next attempt after `attempts` failed ones, or null when there is none. */
export function retryDelay(attempts: number, random: () => number = Math.random): number | null {
  const base = DELAYS_MS[attempts - 1];
  if (base === undefined) return null;
  return Math.round(base * (1 - JITTER * random()));
}

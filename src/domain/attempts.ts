/**
 * What the domain needs to throttle credential guessing (implemented in src/ratelimit/attempts.ts).
 * Keys name what is being guessed: `${tenant}:${username}`, a client IP, a room code's email.
 */
import { DomainError } from './errors.ts';

export interface AttemptLimits {
  points: number;
  windowSeconds: number;
}

export interface AttemptLimiter {
  /** 0 when the key may try; else how long until it may (ms). Costs nothing. */
  blockedForMs(key: string): Promise<number>;
  /** Count one failure against the key. */
  fail(key: string): Promise<void>;
  /** Count one attempt (success or not); returns ms to wait when over the limit, else 0. */
  count(key: string): Promise<number>;
  /** Forget the key's failures (after a success). */
  reset(key: string): Promise<void>;
}

export type AttemptLimiterFactory = (name: string, limits: AttemptLimits) => AttemptLimiter;

export function tooManyAttempts(ms: number, what = 'Too many attempts'): DomainError {
  const seconds = Math.max(1, Math.ceil(ms / 1000));
  return new DomainError('RATE_LIMIT_EXCEEDED', `${what}; retry after ${seconds} s`, [], Math.max(1, Math.round(ms)));
}

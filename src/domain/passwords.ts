/**
 * Password hashing: argon2id (OWASP Password Storage cheat sheet) through @node-rs/argon2. The
 * hasher is a dependency of the domain so tests can count calls (throttling must happen before
 * any hashing) and lower the cost. The hash never leaves the store.
 */
import { hash, verify } from '@node-rs/argon2';

/** Algorithm.Argon2id (a const enum, which isolated modules cannot read). */
const ARGON2ID = 2;
import { invalid, codePoints, isWellFormed } from './validate.ts';

export interface PasswordHasher {
  hash(password: string): Promise<string>;
  verify(hash: string, password: string): Promise<boolean>;
}

export interface Argon2Cost {
  memoryKib: number;
  timeCost: number;
  parallelism: number;
}

export function argon2Hasher(cost: Argon2Cost): PasswordHasher {
  const options = { algorithm: ARGON2ID, memoryCost: cost.memoryKib, timeCost: cost.timeCost, parallelism: cost.parallelism };
  return {
    hash: (password) => hash(password, options),
    verify: async (stored, password) => {
      try {
        return await verify(stored, password);
      } catch {
        return false; // a malformed stored hash never matches
      }
    },
  };
}

/** 8–256 code points of well-formed text (no composition rules: OWASP favours length). */
export function checkPassword(value: unknown, field = 'password'): string {
  if (typeof value !== 'string') throw invalid(field, 'must be a string');
  if (!isWellFormed(value)) throw invalid(field, 'must be valid Unicode text');
  const n = codePoints(value);
  if (n < 8 || n > 256) throw invalid(field, 'must be 8 to 256 characters');
  return value;
}

/**
 * A hash of nothing anyone knows, made with the live cost: verifying against it costs what a
 * real verification costs, so an unknown username answers as slowly as a wrong password.
 */
export function dummyHash(hasher: PasswordHasher): () => Promise<string> {
  let made: Promise<string> | undefined;
  return () => (made ??= hasher.hash(`dummy:${Math.random()}:${Date.now()}`));
}

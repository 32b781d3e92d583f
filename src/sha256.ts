/**
 * SHA-256 of a short string in one call. On the hot paths (an idempotent send's body hash, a
 * credential's cache key) a Hash object per call cost about 0.8 µs; the one-shot crypto.hash
 * (Node ≥ 20.12) about 0.3.
 */
import * as crypto from 'node:crypto';

type Encoding = 'hex' | 'base64url';
const oneShot = (crypto as { hash?: (algorithm: string, data: string, encoding: Encoding) => string }).hash;

export const sha256: (data: string, encoding: Encoding) => string = oneShot
  ? (data, encoding) => oneShot('sha256', data, encoding)
  : (data, encoding) => crypto.createHash('sha256').update(data).digest(encoding);

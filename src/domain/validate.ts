/** Input checks and cursors shared by the domain modules. Every failure is a VALIDATION_ERROR naming the field. */
import { DomainError } from './errors.ts';
import type { Caller, Page, UserCaller } from './types.ts';

export const USER_ID_RE = /^[A-Za-z0-9._@:-]{1,128}$/;
export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 200;

export function invalid(field: string, message: string): DomainError {
  return new DomainError('VALIDATION_ERROR', `${field}: ${message}`, [{ field, message }]);
}

/** Room and message operations act as a user; a bare tenant key has no membership to act with. */
export function requireUser(caller: Caller): UserCaller {
  if (caller.kind !== 'user') {
    throw new DomainError('AUTHORIZATION_ERROR', 'This operation acts as a user: send X-User-Id with the API key, or a user token');
  }
  return caller;
}

export function checkUserId(field: string, value: unknown): string {
  if (typeof value !== 'string' || !USER_ID_RE.test(value)) {
    throw invalid(field, 'must be 1-128 characters of A-Z a-z 0-9 . _ @ : -');
  }
  return value;
}

/**
 * Text must be well-formed Unicode: an unpaired surrogate (possible in JSON via "\ud800") has no
 * UTF-8 form, so the database would store something else than what the caller was told was stored.
 */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
export const isWellFormed = (value: string): boolean => !LONE_SURROGATE.test(value);

export function checkWellFormed(field: string, value: string): string {
  if (!isWellFormed(value)) throw invalid(field, 'must be valid Unicode text (it contains an unpaired surrogate)');
  return value;
}

/** Length in code points, as JSON Schema's maxLength counts (an emoji is one character). */
export const codePoints = (value: string): number => (/[\ud800-\udfff]/.test(value) ? [...value].length : value.length);

/** A string of 1..max characters that is not blank; returns it unchanged (whitespace is kept). */
export function checkText(field: string, value: unknown, max: number): string {
  if (typeof value !== 'string') throw invalid(field, 'must be a string');
  if (value.trim().length === 0) throw invalid(field, 'must not be empty or blank');
  checkWellFormed(field, value);
  // Count code points, as JSON Schema's maxLength does, so an emoji is one character here too.
  if (value.length > max && codePoints(value) > max) throw invalid(field, `must be at most ${max} characters`);
  return value;
}

/** Like checkText, but null clears the field and undefined leaves it out. */
export function checkOptionalText(field: string, value: unknown, max: number): string | null | undefined {
  if (value === undefined || value === null) return value;
  return checkText(field, value, max);
}

export function checkInt(field: string, value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw invalid(field, `must be an integer from ${min} to ${max}`);
  }
  return value;
}

export function checkLimit(value: unknown, field = 'limit'): number {
  return value === undefined ? DEFAULT_LIMIT : checkInt(field, value, 1, MAX_LIMIT);
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export interface JsonBounds {
  /** Most levels of objects/arrays, counting the value itself as level 1. */
  maxDepth: number;
  /** Most object members plus array elements, over all levels. */
  maxNodes: number;
}

/**
 * Bounds a parsed JSON value's nesting and size without recursion, so it runs before anything
 * recursive (JSON.stringify, canonicalJson) could overflow the stack on a value nested thousands
 * deep. Stops at the first level or member beyond the bounds.
 */
export function checkJsonBounds(field: string, value: unknown, bounds: JsonBounds): void {
  const stack: { v: unknown; depth: number }[] = [{ v: value, depth: 1 }];
  let nodes = 0;
  while (stack.length > 0) {
    const { v, depth } = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (depth > bounds.maxDepth) throw invalid(field, `must be nested at most ${bounds.maxDepth} levels deep`);
    const children = Array.isArray(v) ? v : Object.values(v);
    nodes += children.length;
    if (nodes > bounds.maxNodes) throw invalid(field, `must have at most ${bounds.maxNodes} keys and array items in all`);
    for (const child of children) if (typeof child === 'object' && child !== null) stack.push({ v: child, depth: depth + 1 });
  }
}

/** Opaque cursors: base64url of a JSON array of keyset values. */
export function encodeCursor(values: (string | number)[]): string {
  return Buffer.from(JSON.stringify(values)).toString('base64url');
}

export function decodeCursor<T extends (string | number)[]>(cursor: string, shape: ('string' | 'number')[], field = 'cursor'): T {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid(field, 'is not a cursor this API returned');
  }
  // Numbers in our cursors are epoch ms or row keys: safe integers ≥ 0. Anything else (a float,
  // a negative, 1e400 = Infinity, which knex would write into SQL as a bare word) was forged.
  const fits = (v: unknown, t: 'string' | 'number') =>
    t === 'number' ? Number.isSafeInteger(v) && (v as number) >= 0 : typeof v === 'string' && v.length <= 128 && isWellFormed(v);
  const ok = Array.isArray(parsed) && parsed.length === shape.length && shape.every((t, i) => fits(parsed[i], t));
  if (!ok) throw invalid(field, 'is not a cursor this API returned');
  return parsed as T;
}

/** Page size and decoded cursor (or null for the first page). */
export function readPage<T extends (string | number)[]>(page: Page, shape: ('string' | 'number')[]): { limit: number; after: T | null } {
  const limit = checkLimit(page.limit);
  const after = page.cursor ? decodeCursor<T>(page.cursor, shape) : null;
  return { limit, after };
}

/** Fetch limit+1 rows, give back limit and the cursor of the last one when more exist. */
export function paginate<R, T>(rows: R[], limit: number, toItem: (r: R) => T, cursorOf: (r: R) => (string | number)[]) {
  const more = rows.length > limit;
  const page = more ? rows.slice(0, limit) : rows;
  return { items: page.map(toItem), next_cursor: more ? encodeCursor(cursorOf(page[page.length - 1]!)) : null };
}

/** JSON with object keys sorted at every level, so equal bodies hash equally. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (isPlainObject(value)) {
    const keys = Object.keys(value).filter((k) => value[k] !== undefined).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

export const iso = (ms: number): string => new Date(ms).toISOString();
export const isoOrNull = (ms: number | null): string | null => (ms === null ? null : iso(ms));

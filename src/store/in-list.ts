/**
 * Values for an `IN (…)` list whose SQL text repeats: padded to the next power of two (up to 512)
 * by repeating the last value, so a list has one of ten lengths and SQLite reuses the prepared
 * statement (db.ts cachePreparedStatements) instead of parsing and planning the query afresh for
 * every batch of a different size (the per-turn batched reads of connecting sessions, whose sizes
 * vary from batch to batch). A repeated value in `IN (…)` matches nothing more. Longer lists are
 * left as they are.
 */
export function inList(values: readonly string[]): string[] {
  const out = [...values];
  if (out.length === 0 || out.length > 512) return out;
  let size = 1;
  while (size < out.length) size *= 2;
  const last = out[out.length - 1]!;
  while (out.length < size) out.push(last);
  return out;
}

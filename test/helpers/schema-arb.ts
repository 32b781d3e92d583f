/**
 * JSON Schema (the subset spec/openapi.yaml uses) → fast-check arbitraries of VALID values, and a
 * plain deterministic example for callers that want one valid value without randomness.
 * Keywords understood: $ref, allOf, oneOf, anyOf, const, enum, type (one or a list), properties,
 * required, additionalProperties, minProperties, minLength, maxLength, pattern, format (email,
 * date-time, uri), minimum, maximum, exclusiveMinimum/Maximum, items, minItems, maxItems, uniqueItems.
 * Anything else is ignored, so a generated value may still be refused; the fuzzer treats that as
 * fine (a 4xx), never as a crash.
 */
import fc from 'fast-check';
import { deref, type Schema } from './spec-ops.ts';

/** Schema with allOf merged and $refs at the top followed. */
export function normalize(schema: Schema): Schema {
  const s = deref(schema ?? {});
  if (!Array.isArray(s.allOf)) return s;
  const merged: Schema = { ...s, allOf: undefined };
  for (const part of s.allOf.map(normalize)) {
    merged.type ??= part.type;
    merged.properties = { ...(merged.properties ?? {}), ...(part.properties ?? {}) };
    merged.required = [...new Set([...(merged.required ?? []), ...(part.required ?? [])])];
    for (const k of Object.keys(part)) if (!(k in merged)) merged[k] = part[k];
  }
  return merged;
}

export function typesOf(s: Schema): string[] {
  if (Array.isArray(s.type)) return s.type;
  if (typeof s.type === 'string') return [s.type];
  if (s.properties) return ['object'];
  if (s.items) return ['array'];
  return [];
}

const TEXT_CAP = 24; // generated strings stay short unless the schema asks for more

function stringArb(s: Schema): fc.Arbitrary<string> {
  const min = s.minLength ?? 0;
  const max = Math.max(min, Math.min(s.maxLength ?? min + TEXT_CAP, min + TEXT_CAP));
  const fits = (v: string) => [...v].length >= min && [...v].length <= (s.maxLength ?? Infinity);
  if (s.format === 'email') return fc.stringMatching(/^[a-z0-9]{1,12}@[a-z]{1,10}\.(?:com|org|example)$/);
  if (s.format === 'date-time') return fc.date({ min: new Date(0), max: new Date(4102444800000), noInvalidDate: true }).map((d) => d.toISOString());
  if (s.format === 'uri') return fc.webUrl();
  if (typeof s.pattern === 'string') {
    const re = new RegExp(s.pattern, 'u');
    return fc.stringMatching(re).filter(fits);
  }
  return fc.string({ unit: 'binary', minLength: min, maxLength: max });
}

function numberArb(s: Schema, integer: boolean): fc.Arbitrary<number> {
  const lo = s.minimum ?? (s.exclusiveMinimum !== undefined ? s.exclusiveMinimum + (integer ? 1 : Number.EPSILON) : undefined);
  const hi = s.maximum ?? (s.exclusiveMaximum !== undefined ? s.exclusiveMaximum - (integer ? 1 : Number.EPSILON) : undefined);
  if (integer) return fc.integer({ min: lo ?? -1_000_000_000, max: hi ?? 1_000_000_000 });
  return fc.double({ min: lo ?? -1e9, max: hi ?? 1e9, noNaN: true, noDefaultInfinity: true });
}

function objectArb(s: Schema, depth: number): fc.Arbitrary<Record<string, unknown>> {
  const props: Record<string, Schema> = s.properties ?? {};
  const required: string[] = s.required ?? [];
  if (Object.keys(props).length === 0) {
    if (s.additionalProperties === false) return fc.constant({});
    return fc.dictionary(fc.string({ maxLength: 8 }), jsonLeaf(), { maxKeys: depth > 2 ? 0 : 4 });
  }
  const model: Record<string, fc.Arbitrary<unknown>> = {};
  for (const [k, v] of Object.entries(props)) model[k] = valueArb(v, depth + 1);
  const rec = fc.record(model, { requiredKeys: required.filter((k) => k in props) }) as fc.Arbitrary<Record<string, unknown>>;
  const minProps = s.minProperties ?? 0;
  if (minProps === 0) return rec;
  // Guarantee minProperties by forcing the first optional keys in when too few were drawn.
  return rec.chain((o) => {
    if (Object.keys(o).length >= minProps) return fc.constant(o);
    const missing = Object.keys(props).filter((k) => !(k in o)).slice(0, minProps - Object.keys(o).length);
    return fc.record(Object.fromEntries(missing.map((k) => [k, model[k]!]))).map((extra) => ({ ...o, ...extra }));
  });
}

function jsonLeaf(): fc.Arbitrary<unknown> {
  return fc.oneof(fc.string({ maxLength: 8 }), fc.integer(), fc.boolean(), fc.constant(null));
}

/** An arbitrary of values valid against `schema`. */
export function valueArb(schema: Schema, depth = 0): fc.Arbitrary<unknown> {
  const s = normalize(schema);
  if ('const' in s) return fc.constant(s.const);
  if (Array.isArray(s.enum)) return fc.constantFrom(...s.enum);
  const alts = s.oneOf ?? s.anyOf;
  if (Array.isArray(alts)) return fc.oneof(...alts.map((a: Schema) => valueArb(a, depth)));
  const types = typesOf(s);
  if (types.length === 0) return jsonLeaf();
  return fc.oneof(...types.map((t) => typedArb(s, t, depth)));
}

function typedArb(s: Schema, type: string, depth: number): fc.Arbitrary<unknown> {
  switch (type) {
    case 'string': return stringArb(s);
    case 'integer': return numberArb(s, true);
    case 'number': return numberArb(s, false);
    case 'boolean': return fc.boolean();
    case 'null': return fc.constant(null);
    case 'array': {
      const items = valueArb(s.items ?? {}, depth + 1);
      const minLength = s.minItems ?? 0;
      const maxLength = Math.min(s.maxItems ?? minLength + 4, minLength + 4);
      return s.uniqueItems ? fc.uniqueArray(items, { minLength, maxLength, selector: (v) => JSON.stringify(v) }) : fc.array(items, { minLength, maxLength });
    }
    case 'object': return objectArb(s, depth);
    default: return jsonLeaf();
  }
}

/** One plain valid value (examples first, then the smallest thing that fits). */
export function exampleOf(schema: Schema): unknown {
  const s = normalize(schema);
  if ('const' in s) return s.const;
  if (s.example !== undefined) return s.example;
  if (Array.isArray(s.examples) && s.examples.length) return s.examples[0];
  if (Array.isArray(s.enum)) return s.enum[0];
  if (Array.isArray(s.oneOf ?? s.anyOf)) return exampleOf((s.oneOf ?? s.anyOf)[0]);
  const type = typesOf(s).find((t) => t !== 'null') ?? typesOf(s)[0];
  switch (type) {
    case 'string':
      if (s.format === 'email') return 'someone@example.com';
      if (s.format === 'date-time') return new Date(0).toISOString();
      if (s.pattern) return fc.sample(stringArb(s), { numRuns: 1, seed: 1 })[0];
      return 'x'.repeat(Math.max(1, s.minLength ?? 1));
    case 'integer':
    case 'number': return s.minimum ?? (s.maximum !== undefined ? Math.min(0, s.maximum) : 1);
    case 'boolean': return true;
    case 'null': return null;
    case 'array': return Array.from({ length: s.minItems ?? 0 }, () => exampleOf(s.items ?? {}));
    case 'object': {
      const props: Record<string, Schema> = s.properties ?? {};
      const keys = new Set<string>(s.required ?? []);
      for (const k of Object.keys(props)) if (keys.size < (s.minProperties ?? 0)) keys.add(k);
      return Object.fromEntries([...keys].map((k) => [k, exampleOf(props[k] ?? {})]));
    }
    default: return null;
  }
}

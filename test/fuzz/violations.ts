/**
 * Single-field violations of an operation's request, derived from its schemas: wrong type,
 * missing required, out of bounds, pattern and enum misses, unknown properties, deep nesting,
 * unicode edge cases and huge numbers. Each is a Mutation applied to an otherwise valid request;
 * `refuse` says the spec itself forbids the result (so the answer must be a 4xx), the rest only
 * must not break the server or the contract.
 */
import { normalize, typesOf } from '../helpers/schema-arb.ts';
import type { Schema, SpecOperation } from '../helpers/spec-ops.ts';

/** JSON text spliced into a body as is (numbers JSON.stringify cannot write, deep nesting). */
export class RawJson {
  constructor(readonly text: string) {}
}

export interface FuzzRequest {
  path: Record<string, string>;
  query: Record<string, string>;
  headers: Record<string, string>;
  /** undefined: no body; RawJson: the whole body verbatim. */
  body?: unknown;
}

export type Target = { in: 'body'; at: string[] } | { in: 'query' | 'path' | 'header'; name: string };
export const REMOVE = Symbol('remove');

export interface Mutation {
  label: string;
  target: Target;
  value: unknown;
  refuse: boolean;
}

const DEPTH = 5000; // what overflowed the stack in JSON.stringify (issue 7); 30 KB, under the body limit
export const deepObject = () => new RawJson('{"a":'.repeat(DEPTH) + '1' + '}'.repeat(DEPTH));
export const deepArray = () => new RawJson('['.repeat(DEPTH) + ']'.repeat(DEPTH));

/** Strings a careless server mishandles; none of them is invalid JSON. */
const UNICODE: [string, unknown][] = [
  ['lone high surrogate', new RawJson('"a\\ud800b"')],
  ['lone low surrogate', new RawJson('"\\udc00"')],
  ['NUL', 'a\u0000b'],
  ['BOM', '\ufeffx'],
  ['RTL override', '\u202egnp.exe'],
  ['ZWJ family emoji', '👨‍👩‍👧‍👦'],
  ['combining marks', 'e' + '\u0301'.repeat(200)],
  ['noncharacters', '\uffff\ufffe'],
  ['max code point', '\u{10ffff}'],
  ['escaped slash and quote', '\\"/\''],
  ['SQL-ish', "' OR 1=1 --"],
  ['only whitespace', ' \t\n'],
];
const HUGE: [string, RawJson][] = [
  ['1e400 (overflows to Infinity)', new RawJson('1e400')],
  ['-1e400', new RawJson('-1e400')],
  ['1e308', new RawJson('1e308')],
  ['2^53+1', new RawJson('9007199254740993')],
  ['30-digit integer', new RawJson('123456789012345678901234567890')],
  ['-0', new RawJson('-0')],
  ['tiny fraction', new RawJson('1e-300')],
];
const OTHER_TYPES: Record<string, unknown> = { string: 'x', integer: 7, number: 1.5, boolean: true, null: null, array: [], object: {} };

/** Violations of one value (body property or whole body) against its schema. */
function valueMutations(schema: Schema, label: string, target: Target, required: boolean): Mutation[] {
  const s = normalize(schema);
  const out: Mutation[] = [];
  const add = (what: string, value: unknown, refuse: boolean) => out.push({ label: `${label}: ${what}`, target, value, refuse });
  const types = typesOf(s);
  const constrained = types.length > 0 && !s.oneOf && !s.anyOf;
  if (required) add('missing (required)', REMOVE, true);
  for (const [t, v] of Object.entries(OTHER_TYPES)) {
    const allowed = types.includes(t) || (t === 'integer' && types.includes('number'));
    if (constrained && !allowed && !s.enum && !('const' in s)) add(`wrong type ${t}`, v, true);
  }
  if (Array.isArray(s.enum)) add('not in enum', '\u0000not-in-enum', true);
  if (types.includes('string')) stringMutations(s, add);
  if (types.includes('integer') || types.includes('number')) numberMutations(s, types.includes('integer'), add);
  if (types.includes('array')) {
    if (s.maxItems !== undefined) add(`maxItems+1 (${s.maxItems + 1})`, Array.from({ length: s.maxItems + 1 }, (_, i) => `u${i}`), true);
    if ((s.minItems ?? 0) > 0) add('minItems-1', [], true);
    if (s.uniqueItems) add('duplicate items', ['dup', 'dup'], true);
  }
  if (types.includes('object')) {
    if (s.additionalProperties === false) add('unknown property', { ...{}, zz_unknown_property: 1 }, true);
    if ((s.minProperties ?? 0) > 0) add('empty object under minProperties', {}, true);
  }
  // Nesting is bounded even where the schema allows any object (free-form `meta`): always refused.
  add(`${DEPTH}-deep object`, deepObject(), true);
  add(`${DEPTH}-deep array`, deepArray(), true);
  for (const [what, v] of HUGE) add(`huge number ${what}`, v, constrained && !types.includes('number') && !types.includes('integer'));
  return out;
}

function stringMutations(s: Schema, add: (what: string, value: unknown, refuse: boolean) => void): void {
  const max: number | undefined = s.maxLength;
  if (max !== undefined) {
    add(`maxLength+1 ASCII (${max + 1})`, 'a'.repeat(max + 1), true);
    add(`maxLength emoji (${max} code points, ${2 * max} UTF-16 units)`, '😀'.repeat(max), false);
    add(`maxLength+1 emoji`, '😀'.repeat(max + 1), true);
  }
  if ((s.minLength ?? 0) > 0) add('minLength-1', 'a'.repeat(s.minLength - 1), true);
  if (typeof s.pattern === 'string') {
    const re = new RegExp(s.pattern, 'u');
    for (const bad of [' x', 'x ', 'a b', 'a/b', '<x>', 'ä', '%00', '\u0000']) {
      if (!re.test(bad) && (s.minLength ?? 0) <= [...bad].length) { add(`pattern miss ${JSON.stringify(bad)}`, bad, true); break; }
    }
  }
  if (s.format === 'email') add('not an email', 'not-an-email', true);
  if (s.format === 'date-time') add('not a date-time', '2020-13-45T99:99:99Z', true);
  for (const [what, v] of UNICODE) add(`unicode ${what}`, v, false);
}

function numberMutations(s: Schema, integer: boolean, add: (what: string, value: unknown, refuse: boolean) => void): void {
  if (s.minimum !== undefined) add(`minimum-1 (${s.minimum - 1})`, s.minimum - 1, true);
  if (s.maximum !== undefined) add(`maximum+1 (${s.maximum + 1})`, s.maximum + 1, true);
  if (integer) add('fraction for an integer', 1.5, true);
  add('numeric string', '12', true);
}

/** Violations of a string-valued parameter (query, path or header). */
function paramMutations(op: SpecOperation, p: SpecOperation['params'][number]): Mutation[] {
  const s = normalize(p.schema);
  const target = { in: p.in, name: p.name } as Target;
  const out: Mutation[] = [];
  const add = (what: string, value: unknown, refuse: boolean) => out.push({ label: `${p.in} ${p.name}: ${what}`, target, value, refuse });
  const types = typesOf(s);
  const header = p.in === 'header';
  if (p.required && p.in !== 'path') add('missing (required)', REMOVE, true);
  if (types.includes('integer') || types.includes('number')) {
    add('not a number', 'abc', true);
    if (types.includes('integer')) add('fraction', '1.5', true);
    if (s.minimum !== undefined) add('minimum-1', String(s.minimum - 1), true);
    if (s.maximum !== undefined) add('maximum+1', String(s.maximum + 1), true);
    for (const v of ['1e400', '99999999999999999999999', '-0', '0x10', ' 1']) add(`huge or odd number ${JSON.stringify(v)}`, v, false);
  }
  if (types.includes('string')) {
    if (s.maxLength !== undefined) add(`maxLength+1 (${s.maxLength + 1})`, 'a'.repeat(s.maxLength + 1), true);
    if (!header) {
      if (s.maxLength !== undefined) add('maxLength+1 emoji', '😀'.repeat(s.maxLength + 1), true);
      for (const [what, v] of UNICODE) if (typeof v === 'string') add(`unicode ${what}`, v, false);
      add('dot segments', '..', false);
      add('encoded slash', 'a/b', false);
    }
    if (typeof s.pattern === 'string') {
      const re = new RegExp(s.pattern, 'u');
      const bad = ['a!b', 'a b', '<x>'].find((v) => !re.test(v));
      if (bad) add(`pattern miss ${JSON.stringify(bad)}`, bad, true);
    }
  }
  if (p.in === 'query') add('repeated', ['1', '2'], false);
  void op;
  return out;
}

/** Properties of an object schema to recurse into, to a small depth. */
function bodyTargets(schema: Schema, at: string[], depth: number): { at: string[]; schema: Schema; required: boolean }[] {
  const s = normalize(schema);
  if (depth > 2 || !s.properties) return [];
  const required: string[] = s.required ?? [];
  return Object.entries(s.properties as Record<string, Schema>).flatMap(([k, v]) => [
    { at: [...at, k], schema: v, required: required.includes(k) },
    ...bodyTargets(v, [...at, k], depth + 1),
  ]);
}

/** Every single-field violation of an operation's request. */
export function mutationsOf(op: SpecOperation): Mutation[] {
  const out: Mutation[] = [];
  for (const p of op.params) out.push(...paramMutations(op, p));
  out.push({ label: 'query: unknown parameter', target: { in: 'query', name: 'zz_unknown' }, value: '1', refuse: false });
  if (op.body) {
    out.push(...valueMutations(op.body, 'body', { in: 'body', at: [] }, op.bodyRequired));
    out.push({ label: 'body: not JSON', target: { in: 'body', at: [] }, value: new RawJson('{"a":'), refuse: true });
    for (const t of bodyTargets(op.body, [], 0)) out.push(...valueMutations(t.schema, `body.${t.at.join('.')}`, { in: 'body', at: t.at }, t.required));
  } else {
    out.push({ label: 'unexpected JSON body', target: { in: 'body', at: [] }, value: { a: 1 }, refuse: false });
  }
  return out;
}

/** The request with one mutation applied; null when it does not apply (e.g. a parent is absent). */
export function applyMutation(base: FuzzRequest, m: Mutation): FuzzRequest | null {
  const req: FuzzRequest = { path: { ...base.path }, query: { ...base.query }, headers: { ...base.headers }, body: base.body };
  const t = m.target;
  if (t.in !== 'body') {
    const bag = t.in === 'query' ? req.query : t.in === 'path' ? req.path : req.headers;
    if (m.value === REMOVE) delete bag[t.name];
    else bag[t.name] = m.value as string;
    return req;
  }
  if (t.at.length === 0) {
    if (m.value === REMOVE) req.body = undefined;
    else req.body = m.value;
    return req;
  }
  if (typeof base.body !== 'object' || base.body === null || base.body instanceof RawJson) return null;
  req.body = structuredClone(base.body);
  let node = req.body as Record<string, unknown>;
  for (const key of t.at.slice(0, -1)) {
    if (typeof node[key] !== 'object' || node[key] === null || Array.isArray(node[key])) {
      if (m.value === REMOVE) return null;
      node[key] = {};
    }
    node = node[key] as Record<string, unknown>;
  }
  const last = t.at[t.at.length - 1]!;
  if (m.value === REMOVE) {
    if (!(last in node)) return null;
    delete node[last];
  } else node[last] = m.value;
  return req;
}

/** JSON text of a body that may hold RawJson pieces. */
export function serialize(body: unknown): string {
  if (body instanceof RawJson) return body.text;
  const raws: string[] = [];
  const text = JSON.stringify(body, (_k, v) => (v instanceof RawJson ? `@@raw${raws.push(v.text) - 1}@@` : v));
  return text.replace(/"@@raw(\d+)@@"/g, (_m, i: string) => raws[Number(i)]!);
}

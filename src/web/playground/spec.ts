/** What the playground reads from the bundled specs: REST operations and client frames with examples. */

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Obj = { [key: string]: Json };
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

export interface Param { name: string; in: 'path' | 'query' | 'header'; required: boolean; example: string }
export interface Operation { id: string; method: string; path: string; summary: string; params: Param[]; body?: string }
export interface FrameExample { name: string; payload: Json }

function resolve(spec: Obj, node: Json): Json {
  let n = node;
  for (let i = 0; i < 20 && isObj(n) && typeof n.$ref === 'string'; i++) {
    n = n.$ref.slice(2).split('/').map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~')).reduce<Json>((acc, t) => (isObj(acc) ? acc[t]! : null), spec);
  }
  return n;
}

/** A plausible value for a schema: its first example, else one built from its required properties. */
export function exampleOf(spec: Obj, schema: Json, depth = 0): Json {
  const s = resolve(spec, schema);
  if (!isObj(s) || depth > 6) return null;
  if (Array.isArray(s.examples) && s.examples.length) return s.examples[0]!;
  if (s.const !== undefined) return s.const;
  if (Array.isArray(s.enum)) return s.enum[0]!;
  const alt = (s.oneOf ?? s.anyOf) as Json[] | undefined;
  if (Array.isArray(alt)) return exampleOf(spec, alt.find((a) => !(isObj(a) && a.type === 'null')) ?? null, depth + 1);
  const type = Array.isArray(s.type) ? s.type.find((t) => t !== 'null') : s.type;
  if (type === 'object' || isObj(s.properties)) {
    const out: Obj = {};
    const props = isObj(s.properties) ? s.properties : {};
    for (const key of (s.required as string[] | undefined) ?? []) out[key] = exampleOf(spec, props[key] ?? null, depth + 1);
    return out;
  }
  if (type === 'array') return [];
  if (type === 'integer' || type === 'number') return typeof s.minimum === 'number' ? s.minimum : 0;
  if (type === 'boolean') return false;
  return type === 'string' ? 'text' : null;
}

export function operations(spec: Obj): Operation[] {
  const out: Operation[] = [];
  for (const [path, item] of Object.entries(isObj(spec.paths) ? spec.paths : {})) {
    if (!isObj(item)) continue;
    for (const method of ['get', 'post', 'put', 'patch', 'delete']) {
      const op = item[method];
      if (!isObj(op)) continue;
      const raw = [...((item.parameters as Json[]) ?? []), ...((op.parameters as Json[]) ?? [])].map((p) => resolve(spec, p)).filter(isObj);
      const params = raw.map((p) => ({
        name: String(p.name), in: p.in as Param['in'], required: p.required === true,
        example: p.in === 'path' ? '' : String(exampleOf(spec, p.schema ?? null) ?? ''),
      }));
      const schema = isObj(op.requestBody) ? (op.requestBody as { content?: { 'application/json'?: { schema?: Json } } }).content?.['application/json']?.schema : undefined;
      out.push({
        id: String(op.operationId), method: method.toUpperCase(), path, summary: String(op.summary ?? ''), params,
        body: schema === undefined ? undefined : JSON.stringify(exampleOf(spec, schema), null, 2),
      });
    }
  }
  return out;
}

/** Every frame a client may send, with the spec's first example for each (asyncapi.yaml, action receive). */
export function clientFrames(spec: Obj): FrameExample[] {
  const messages = isObj(spec.components) && isObj(spec.components.messages) ? spec.components.messages : {};
  const out: FrameExample[] = [];
  for (const op of Object.values(isObj(spec.operations) ? spec.operations : {})) {
    if (!isObj(op) || op.action !== 'receive' || !Array.isArray(op.messages) || op.messages.length !== 1) continue;
    const key = String((op.messages[0] as Obj).$ref).split('/').pop()!;
    const msg = messages[key];
    if (!isObj(msg) || !Array.isArray(msg.examples) || !isObj(msg.examples[0])) continue;
    out.push({ name: String(msg.name), payload: msg.examples[0].payload ?? null });
  }
  return out;
}

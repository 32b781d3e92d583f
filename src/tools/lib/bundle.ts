// A small, deterministic bundler for the spec: every external $ref to a file under spec/schemas/
// becomes an internal $ref to a named entry (components.schemas.Message, $defs.Message, …), so
// OpenAPI, AsyncAPI, the TypeScript types and the validators all use the same names.
// A schema file's top-level `$defs` entries are hoisted to named entries of their own (their key is
// the name), so generated types never carry a `$defs` member. Refs to other files (examples, path
// items) are inlined. Remote (http) refs are refused.
import path from 'node:path';
import { type Json, type JsonObject, type SchemaFile, isObject, loadYaml } from './spec.ts';

export interface BundleOptions {
  schemaFiles: SchemaFile[];
  /** Where bundled schemas go, as path segments: ['components', 'schemas'] or ['$defs']. */
  target: string[];
  /** Bundle every schema file, not only those the document references. */
  includeAll?: boolean;
}

/** One named entry of the bundle: a whole schema file, or one of its hoisted `$defs`. */
interface Entry {
  name: string;
  sf: SchemaFile;
  defKey?: string;
}

interface Ctx {
  file: string;
  schema: SchemaFile | null;
  depth: number;
}

const escapeToken = (t: string) => t.replace(/~/g, '~0').replace(/\//g, '~1');
const unescapeToken = (t: string) => t.replace(/~1/g, '/').replace(/~0/g, '~');

export function pointerGet(doc: Json, pointer: string, where: string): Json {
  if (pointer === '') return doc;
  if (!pointer.startsWith('/')) throw new Error(`${where}: unsupported $ref fragment "#${pointer}" (use a JSON pointer)`);
  let node: Json = doc;
  for (const token of pointer.slice(1).split('/').map((t) => unescapeToken(decodeURIComponent(t)))) {
    const next: Json | undefined = Array.isArray(node) ? node[Number(token)] : isObject(node) ? node[token] : undefined;
    if (next === undefined) throw new Error(`${where}: $ref target "#${pointer}" does not exist`);
    node = next;
  }
  return node;
}

function splitRef(ref: string): [string, string] {
  const i = ref.indexOf('#');
  return i < 0 ? [ref, ''] : [ref.slice(0, i), ref.slice(i + 1)];
}

export class Bundler {
  private readonly byFile = new Map<string, SchemaFile>();
  /** `<abs file>#<defKey>` → hoisted entry. */
  private readonly hoisted = new Map<string, Entry>();
  private readonly prefix: string;
  private readonly queue: Entry[] = [];
  private readonly used = new Set<string>();

  constructor(private readonly opts: BundleOptions) {
    const names = new Map<string, string>();
    const claim = (name: string, what: string) => {
      const other = names.get(name);
      if (other) throw new Error(`the schema name "${name}" is used by both ${other} and ${what}; rename one`);
      names.set(name, what);
    };
    for (const f of opts.schemaFiles) {
      this.byFile.set(f.file, f);
      claim(f.name, `spec/${f.rel}`);
    }
    for (const f of opts.schemaFiles) {
      const doc = loadYaml(f.file);
      const defs = isObject(doc) && isObject(doc.$defs) ? doc.$defs : {};
      for (const key of Object.keys(defs)) {
        if (!/^[A-Za-z][A-Za-z0-9_]*$/.test(key)) throw new Error(`spec/${f.rel}: $defs key "${key}" must be a type name (letters, digits, _)`);
        claim(key, `spec/${f.rel}#/$defs/${key}`);
        this.hoisted.set(`${f.file}#${key}`, { name: key, sf: f, defKey: key });
      }
    }
    this.prefix = '#/' + opts.target.map(escapeToken).join('/') + '/';
  }

  /** Bundle `rootFile` (or a ready-made root document that lives at `rootFile`'s location). */
  bundle(rootFile: string, rootDoc: Json = loadYaml(rootFile)): JsonObject {
    if (!isObject(rootDoc)) throw new Error(`${rootFile}: expected a mapping at the top level`);
    const { target } = this.opts;
    const existing = this.containerOf(rootDoc);
    // `Message: {$ref: ./schemas/message.yaml}` in the root's own container is just the entry itself.
    const kept: JsonObject = {};
    for (const [key, value] of Object.entries(existing)) {
      const sf = this.aliasTarget(value, rootFile);
      if (sf && sf.name === key) this.enqueue({ name: sf.name, sf });
      else kept[key] = value;
    }
    const rootCtx: Ctx = { file: path.resolve(rootFile), schema: null, depth: 0 };
    const out = this.walk(withContainer(rootDoc, target, kept), rootCtx) as JsonObject;
    if (this.opts.includeAll) {
      for (const sf of this.opts.schemaFiles) this.enqueue({ name: sf.name, sf });
      for (const entry of this.hoisted.values()) this.enqueue(entry);
    }
    const bundled: JsonObject = {};
    for (let entry = this.queue.shift(); entry; entry = this.queue.shift()) {
      if (entry.name in kept) throw new Error(`${rootFile}: ${target.join('.')}.${entry.name} clashes with spec/${entry.sf.rel}; rename one`);
      bundled[entry.name] = this.schemaContent(entry);
    }
    const container: JsonObject = { ...(this.containerOf(out) as JsonObject) };
    for (const name of Object.keys(bundled).sort()) container[name] = bundled[name]!;
    return withContainer(out, target, container);
  }

  /** Names of the entries this bundle pulled in, sorted. */
  usedNames(): string[] {
    return [...this.used].sort();
  }

  private schemaContent({ sf, defKey }: Entry): Json {
    const doc = loadYaml(sf.file);
    if (!isObject(doc)) throw new Error(`spec/${sf.rel}: a schema file must be a mapping`);
    const ctx: Ctx = { file: sf.file, schema: sf, depth: 0 };
    if (defKey !== undefined) return this.walk((doc.$defs as JsonObject)[defKey]!, ctx);
    // $id would change how the rewritten internal refs resolve; $schema is implied by the host
    // document; $defs are hoisted.
    const { $id: _id, $schema: _schema, $defs: _defs, ...rest } = doc;
    return this.walk(rest, ctx);
  }

  /** The bundled ref for `frag` inside schema file `sf`: hoisted $defs get their own entry. */
  private schemaRef(sf: SchemaFile, frag: string): string {
    const m = /^\/\$defs\/([^/]+)(\/.*)?$/.exec(frag);
    const entry = m ? this.hoisted.get(`${sf.file}#${unescapeToken(decodeURIComponent(m[1]!))}`) : undefined;
    if (entry) {
      this.enqueue(entry);
      return this.prefix + entry.name + (m![2] ?? '');
    }
    this.enqueue({ name: sf.name, sf });
    return this.prefix + sf.name + frag;
  }

  private containerOf(doc: JsonObject): JsonObject {
    let node: Json | undefined = doc;
    for (const seg of this.opts.target) node = isObject(node) ? node[seg] : undefined;
    return isObject(node) ? node : {};
  }

  private aliasTarget(value: Json, fromFile: string): SchemaFile | undefined {
    if (!isObject(value) || Object.keys(value).length !== 1 || typeof value.$ref !== 'string') return undefined;
    const [filePart, frag] = splitRef(value.$ref);
    if (!filePart || frag) return undefined;
    return this.byFile.get(path.resolve(path.dirname(path.resolve(fromFile)), decodeURI(filePart)));
  }

  private enqueue(entry: Entry): void {
    if (this.used.has(entry.name)) return;
    this.used.add(entry.name);
    this.queue.push(entry);
  }

  private walk(node: Json, ctx: Ctx): Json {
    if (Array.isArray(node)) return node.map((item) => this.walk(item, ctx));
    if (!isObject(node)) return node;
    const out: JsonObject = {};
    for (const [key, value] of Object.entries(node)) {
      if (key === '$ref' && typeof value === 'string') {
        const resolved = this.resolveRef(value, ctx);
        if (typeof resolved === 'string') out.$ref = resolved;
        else if (isObject(resolved)) Object.assign(out, resolved); // inlined non-schema file content
        else return resolved;
      } else {
        out[key] = this.walk(value, ctx);
      }
    }
    return out;
  }

  /** A rewritten $ref string, or the inlined content of a non-schema file. */
  private resolveRef(ref: string, ctx: Ctx): string | Json {
    const where = path.relative(process.cwd(), ctx.file);
    const [filePart, frag] = splitRef(ref);
    if (frag && !frag.startsWith('/')) throw new Error(`${where}: $ref "${ref}" must use a JSON pointer fragment`);
    if (!filePart) {
      if (ctx.schema) return this.schemaRef(ctx.schema, frag);
      if (ctx.depth === 0) return ref; // internal ref of the root document
      return this.inline(ctx.file, frag, ctx, ref);
    }
    if (/^[a-z][a-z0-9+.-]*:/i.test(filePart)) throw new Error(`${where}: remote $ref "${ref}" is not allowed; vendor the file into spec/`);
    const abs = path.resolve(path.dirname(ctx.file), decodeURI(filePart));
    const sf = this.byFile.get(abs);
    if (sf) {
      pointerGet(loadYaml(abs), frag, where); // fail early on a dangling fragment
      return this.schemaRef(sf, frag);
    }
    return this.inline(abs, frag, ctx, ref);
  }

  private inline(file: string, frag: string, ctx: Ctx, ref: string): Json {
    if (ctx.depth > 50) throw new Error(`${ctx.file}: $ref "${ref}" recurses too deeply (a cycle outside spec/schemas/?)`);
    const target = pointerGet(loadYaml(file), frag, path.relative(process.cwd(), ctx.file));
    return this.walk(target, { file, schema: null, depth: ctx.depth + 1 });
  }
}

function withContainer(doc: JsonObject, target: string[], container: JsonObject): JsonObject {
  const [head, ...rest] = target;
  if (head === undefined) return container;
  const child = doc[head];
  if (Object.keys(container).length === 0 && child === undefined) return doc;
  return { ...doc, [head]: withContainer(isObject(child) ? child : {}, rest, container) };
}

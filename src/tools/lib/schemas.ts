// Outputs built from the JSON Schemas themselves: frames.d.ts (json-schema-to-typescript) and
// validators.cjs (Ajv 2020 standalone). Both see one document: every schema file under spec/schemas/
// plus the AsyncAPI document's own component schemas and its message payloads, as `$defs.<Name>`.
import { compile } from 'json-schema-to-typescript';
import { Bundler } from './bundle.ts';
import { notice, type Json, type JsonObject, type SchemaFile, isObject, pascalCase } from './spec.ts';

export const SCHEMAS_ID = 'urn:chatapi:schemas';

/** All named schemas, sorted by name, with refs pointing at `#/$defs/<Name>`. */
export function collectSchemas(schemaFiles: SchemaFile[], asyncapiFile: string | null): Record<string, Json> {
  const bundler = new Bundler({ schemaFiles, target: ['components', 'schemas'], includeAll: true });
  const doc = asyncapiFile ? bundler.bundle(asyncapiFile) : bundler.bundle('spec/.schemas', {});
  const components = isObject(doc.components) ? doc.components : {};
  const defs: Record<string, Json> = { ...(isObject(components.schemas) ? components.schemas : {}) };
  for (const [name, payload] of messagePayloads(doc)) {
    if (name in defs) throw new Error(`asyncapi message payload type ${name} clashes with the schema of the same name; rename the message`);
    defs[name] = payload;
  }
  const sorted: Record<string, Json> = {};
  for (const name of Object.keys(defs).sort()) sorted[name] = retarget(defs[name]!);
  return sorted;
}

/** `messageSend` (components.messages key or channel message key) → `MessageSendPayload`. */
function messagePayloads(doc: JsonObject): [string, Json][] {
  const found = new Map<string, Json>();
  const take = (messages: Json | undefined) => {
    if (!isObject(messages)) return;
    for (const [key, message] of Object.entries(messages)) {
      if (!isObject(message) || '$ref' in message || message.payload === undefined) continue;
      let payload = message.payload;
      // AsyncAPI 3 Multi Format Schema Object: { schemaFormat, schema }.
      if (isObject(payload) && 'schemaFormat' in payload && 'schema' in payload) payload = payload.schema!;
      found.set(`${pascalCase(key)}Payload`, payload);
    }
  };
  const components = isObject(doc.components) ? doc.components : {};
  take(components.messages);
  if (isObject(doc.channels)) for (const channel of Object.values(doc.channels)) if (isObject(channel)) take(channel.messages);
  return [...found.entries()];
}

function retarget(node: Json): Json {
  if (Array.isArray(node)) return node.map(retarget);
  if (!isObject(node)) return node;
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(node)) {
    out[key] = key === '$ref' && typeof value === 'string' ? value.replace(/^#\/components\/schemas\//, '#/$defs/') : retarget(value);
  }
  return out;
}

export async function frameTypes(defs: Record<string, Json>): Promise<string> {
  const titled: Record<string, Json> = {};
  // The def key is the type name; a differing `title` would otherwise rename the type.
  for (const [name, schema] of Object.entries(defs)) {
    const alias = isObject(schema) && Object.keys(schema).length === 1 && typeof schema.$ref === 'string' ? /^#\/\$defs\/([A-Za-z0-9_]+)$/.exec(schema.$ref) : null;
    // A pure alias ({$ref} only) stays an alias (`type A = B`), not a structural copy of B.
    titled[name] = alias ? { tsType: alias[1]!, title: name } : isObject(schema) ? { ...schema, title: name } : schema;
  }
  const names = Object.keys(titled);
  const root = {
    title: 'SchemaTypes',
    description: 'Every named schema by name (entities, frames, AsyncAPI message payloads).',
    type: 'object',
    additionalProperties: false,
    required: names,
    properties: Object.fromEntries(names.map((n) => [n, { $ref: `#/$defs/${n}` }])),
    $defs: titled,
  };
  const ts = await compile(root as never, 'SchemaTypes', {
    bannerComment: '',
    format: true,
    declareExternallyReferenced: true,
    enableConstEnums: false,
    $refOptions: { resolve: { external: false } } as never,
  });
  return `/**\n * ${notice('spec/schemas/ and spec/asyncapi.yaml')}\n * Types for WebSocket frames, AsyncAPI message payloads and the shared entity schemas.\n */\n\n${ts}`;
}

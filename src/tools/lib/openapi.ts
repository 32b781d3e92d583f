// OpenAPI outputs: the self-contained bundle (JSON + YAML) and its TypeScript types.
import path from 'node:path';
import openapiTS, { astToString } from 'openapi-typescript';
import { stringify } from 'yaml';
import { Bundler } from './bundle.ts';
import { notice, type JsonObject, type SchemaFile } from './spec.ts';

export function bundleOpenApi(specDir: string, schemaFiles: SchemaFile[]): JsonObject {
  const bundler = new Bundler({ schemaFiles, target: ['components', 'schemas'] });
  const doc = bundler.bundle(path.join(specDir, 'openapi.yaml'));
  if (typeof doc.openapi !== 'string' || !doc.openapi.startsWith('3.1')) {
    throw new Error(`spec/openapi.yaml: expected "openapi: 3.1.x", found ${JSON.stringify(doc.openapi)}`);
  }
  return withNotice(doc, 'spec/openapi.yaml');
}

/** JSON has no comments: the notice travels as a root `x-generated` extension, first key. */
export function withNotice(doc: JsonObject, source: string): JsonObject {
  const { 'x-generated': _old, ...rest } = doc;
  const [first, ...others] = Object.entries(rest);
  // Keep the version key (openapi/asyncapi) first so tools sniffing the format still see it first.
  return Object.fromEntries([...(first ? [first] : []), ['x-generated', notice(source)], ...others]);
}

export const toJson = (doc: unknown) => JSON.stringify(doc, null, 2) + '\n';

export function toYaml(doc: unknown, source: string): string {
  const body = stringify(doc, { lineWidth: 0, aliasDuplicateObjects: false, sortMapEntries: false });
  return `# ${notice(source)}\n${body}`;
}

export async function openApiTypes(bundle: JsonObject): Promise<string> {
  const ast = await openapiTS(bundle as never, {
    silent: true,
    // `export type Message = components['schemas']['Message']` etc. next to the usual interfaces.
    rootTypes: true,
    rootTypesNoSchemaPrefix: true,
  });
  return `/**\n * ${notice('spec/openapi.yaml')}\n * Types for the REST contract (openapi-typescript).\n */\n\n${astToString(ast)}`;
}

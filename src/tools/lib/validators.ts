// Ajv 2020 standalone validators: CommonJS (design.md: Ajv's ESM output still calls require),
// one export per named schema, formats from ajv-formats, compiled in name order so output is stable.
import Ajv2020Module from 'ajv/dist/2020.js';
import standaloneModule from 'ajv/dist/standalone/index.js';
import addFormatsModule from 'ajv-formats';
import { type Json, isObject, notice } from './spec.ts';
import { SCHEMAS_ID } from './schemas.ts';

// These packages are CommonJS with `exports.default`; under NodeNext the default import is the module.
const Ajv2020 = Ajv2020Module.default;
const standaloneCode = standaloneModule.default;
const addFormats = addFormatsModule.default;

/** OpenAPI/AsyncAPI annotation keywords that are not JSON Schema validation keywords. */
const ANNOTATIONS = ['example', 'discriminator', 'externalDocs', 'xml'];

function extensionKeywords(node: Json, found = new Set<string>()): Set<string> {
  if (Array.isArray(node)) for (const item of node) extensionKeywords(item, found);
  else if (isObject(node)) {
    for (const [key, value] of Object.entries(node)) {
      if (key.startsWith('x-')) found.add(key);
      extensionKeywords(value, found);
    }
  }
  return found;
}

export interface ValidatorOutput {
  code: string;
  dts: string;
  warnings: string[];
}

export function buildValidators(defs: Record<string, Json>): ValidatorOutput {
  const warnings: string[] = [];
  const ajv = new Ajv2020({
    code: { source: true, esm: false, lines: true },
    allErrors: true,
    // Strict catches typos and OpenAPI-3.0-isms (e.g. `nullable`) in the spec; union types are fine in 2020-12.
    strict: true,
    strictRequired: false,
    allowUnionTypes: true,
    logger: { log: () => {}, warn: (...a: unknown[]) => warnings.push(a.join(' ')), error: (...a: unknown[]) => warnings.push(a.join(' ')) },
  });
  addFormats(ajv);
  ajv.addVocabulary([...ANNOTATIONS, ...[...extensionKeywords(defs)].sort()]);
  ajv.addSchema({ $id: SCHEMAS_ID, $defs: defs } as never);
  const names = Object.keys(defs).sort();
  const refs = Object.fromEntries(names.map((n) => [n, `${SCHEMAS_ID}#/$defs/${n}`]));
  const code = `// ${notice('spec/schemas/ and spec/asyncapi.yaml')}\n${standaloneCode(ajv, refs)}\n`;
  const dts = [
    `// ${notice('spec/schemas/ and spec/asyncapi.yaml')}`,
    '// Declarations for validators.cjs: one Ajv validate function per named schema.',
    "import type { ValidateFunction } from 'ajv';",
    "import type { SchemaTypes } from './frames.d.ts';",
    '',
    ...names.map((n) => `export declare const ${n}: ValidateFunction<SchemaTypes['${n}']>;`),
    '',
  ].join('\n');
  return { code, dts, warnings };
}

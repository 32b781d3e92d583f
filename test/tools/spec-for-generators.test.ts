// What keeps the specs friendly to client generators (openapi-typescript, hey-api, orval,
// swagger-typescript-api, @asyncapi/cli models) and to the playground: no $ref into another
// schema's properties, every message in one of the two union operations, and every message with an
// example that matches its own payload schema.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const validators = createRequire(import.meta.url)('../../generated/validators.cjs') as Record<string, ((v: unknown) => boolean) & { errors?: unknown }>;
const files = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(path.join(dir, e.name)) : /\.ya?ml$/.test(e.name) ? [path.join(dir, e.name)] : []));

test('no $ref points into another schema\'s properties (give shared fields a named schema)', () => {
  const offenders = files(path.join(ROOT, 'spec')).flatMap((f) =>
    readFileSync(f, 'utf8').split('\n').map((line, i) => [line, i] as const).filter(([line]) => /\$ref:.*#\/properties\//.test(line))
      .map(([line, i]) => `${path.relative(ROOT, f)}:${i + 1}: ${line.trim()}`));
  assert.deepEqual(offenders, []);
});

interface Doc { operations: Record<string, { action: string; messages: { $ref: string }[] }>; components: { messages: Record<string, { examples?: { payload: unknown }[] }> } }
const asyncapi = parse(readFileSync(path.join(ROOT, 'spec/asyncapi.yaml'), 'utf8')) as Doc;
const keysOf = (op: string) => asyncapi.operations[op]!.messages.map((m) => m.$ref.split('/').pop()!);

test('every AsyncAPI message is in exactly one of receiveClientFrame / sendServerFrame', () => {
  const client = keysOf('receiveClientFrame');
  const server = keysOf('sendServerFrame');
  assert.equal(asyncapi.operations.receiveClientFrame!.action, 'receive');
  assert.equal(asyncapi.operations.sendServerFrame!.action, 'send');
  const all = Object.keys(asyncapi.components.messages).sort();
  assert.deepEqual([...client, ...server].sort(), all, 'each message once, in one of the two unions');
});

test('every AsyncAPI message has an example that matches its payload schema', () => {
  for (const [key, message] of Object.entries(asyncapi.components.messages)) {
    assert.ok(message.examples?.length, `${key} has an example (the docs and the playground show it)`);
    const validate = validators[`${key[0]!.toUpperCase()}${key.slice(1)}Payload`]!;
    for (const ex of message.examples!) assert.ok(validate(ex.payload), `${key} example: ${JSON.stringify(validate.errors)}`);
  }
});

// `make validate-asyncapi`: validate spec/asyncapi.yaml (and its generated bundle) with @asyncapi/parser, the library behind
// `asyncapi validate`, resolving the relative $refs into spec/schemas/. Prints every diagnostic;
// exits 1 on any error (warnings are printed, not fatal).
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import asyncapiParser from '@asyncapi/parser';

const { Parser, DiagnosticSeverity } = asyncapiParser;

const SEVERITY: Record<number, string> = {
  [DiagnosticSeverity.Error]: 'error',
  [DiagnosticSeverity.Warning]: 'warning',
  [DiagnosticSeverity.Information]: 'info',
  [DiagnosticSeverity.Hint]: 'hint',
};

export async function validateAsyncApi(file: string): Promise<{ errors: number; lines: string[] }> {
  const abs = path.resolve(file);
  const parser = new Parser();
  const { document, diagnostics } = await parser.parse(readFileSync(abs, 'utf8'), {
    source: pathToFileURL(abs).href,
    validateOptions: { allowedSeverity: { warning: true, info: true, hint: true } },
  });
  const rel = path.relative(process.cwd(), abs);
  const lines = diagnostics
    .map((d) => {
      const where = d.range ? `${d.source ? path.relative(process.cwd(), d.source.replace(/^file:\/\//, '')) : rel}:${d.range.start.line + 1}:${d.range.start.character + 1}` : rel;
      const at = d.path.length ? ` at ${d.path.join('.')}` : '';
      return `${where} ${SEVERITY[d.severity] ?? d.severity} ${d.code}: ${d.message}${at}`;
    })
    .sort();
  const errors = diagnostics.filter((d) => d.severity === DiagnosticSeverity.Error).length + (document ? 0 : errorsIfNoDocument(diagnostics.length));
  return { errors, lines };
}

/** No document and no error diagnostic would be a silent failure: count it as one error. */
const errorsIfNoDocument = (diagnosticCount: number) => (diagnosticCount === 0 ? 1 : 0);

async function main(): Promise<void> {
  const files = process.argv.length > 2 ? process.argv.slice(2) : ['spec/asyncapi.yaml'];
  let failed = false;
  for (const file of files) {
    if (!existsSync(file)) {
      console.error(`${file}: not found`);
      failed = true;
      continue;
    }
    const { errors, lines } = await validateAsyncApi(file);
    for (const line of lines) console.log(line);
    if (errors > 0) {
      console.error(`${file}: ${errors} error(s); not a valid AsyncAPI document`);
      failed = true;
    } else {
      console.log(`${file}: valid AsyncAPI (${lines.length} non-fatal diagnostic(s))`);
    }
  }
  if (failed) process.exit(1);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err: unknown) => {
    console.error(`asyncapi validate failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
}

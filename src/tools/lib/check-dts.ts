// The repo tsconfig uses skipLibCheck (node_modules types are not ours to fix), which would also skip
// generated .d.ts files; so generation typechecks its own declarations here.
import path from 'node:path';
import ts from 'typescript';

export function checkDeclarations(dir: string, names: string[]): string[] {
  const roots = names.map((n) => path.resolve(dir, n));
  const program = ts.createProgram(roots, {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    strict: true,
    noEmit: true,
    allowImportingTsExtensions: true,
    lib: ['lib.es2022.d.ts'],
    skipDefaultLibCheck: true,
    types: [],
  });
  // Only our files' own diagnostics: checking every imported library's declarations costs seconds.
  const diagnostics = [
    ...program.getOptionsDiagnostics(),
    ...roots.flatMap((file) => {
      const sf = program.getSourceFile(file);
      return sf ? [...program.getSyntacticDiagnostics(sf), ...program.getSemanticDiagnostics(sf)] : [];
    }),
  ];
  return diagnostics.map((d) => {
    const msg = ts.flattenDiagnosticMessageText(d.messageText, '\n');
    if (!d.file || d.start === undefined) return msg;
    const { line, character } = d.file.getLineAndCharacterOfPosition(d.start);
    return `${path.relative(process.cwd(), d.file.fileName)}:${line + 1}:${character + 1} ${msg}`;
  });
}

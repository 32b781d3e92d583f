/**
 * The browser assets, bundled by esbuild from TypeScript (one entry per page, plus the realtime
 * client on its own as an ES module integrators can import). Built once per process on first
 * request and kept in memory; `make web` writes the same files to dist/web/.
 */
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

export const ENTRIES = {
  'realtime.js': 'src/client/realtime.ts',
  'embed.js': 'src/web/embed/main.ts',
  'playground.js': 'src/web/playground/main.ts',
} as const;

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** name → bundled JavaScript. */
export async function buildWebAssets(outdir?: string): Promise<Map<string, Buffer>> {
  const result = await esbuild.build({
    absWorkingDir: ROOT,
    entryPoints: Object.fromEntries(Object.entries(ENTRIES).map(([name, src]) => [name.replace(/\.js$/, ''), src])),
    bundle: true,
    format: 'esm',
    target: 'es2022',
    platform: 'browser',
    minify: true,
    sourcemap: false,
    legalComments: 'none',
    outdir: outdir ?? 'dist/web',
    write: outdir !== undefined,
    logLevel: 'silent',
  });
  const out = new Map<string, Buffer>();
  for (const file of result.outputFiles ?? []) out.set(file.path.split('/').pop()!, Buffer.from(file.contents));
  return out;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await buildWebAssets(process.argv[2] ?? 'dist/web');
  console.log(`built ${Object.keys(ENTRIES).join(', ')} into ${process.argv[2] ?? 'dist/web'}/`);
}

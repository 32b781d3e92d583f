/**
 * Loads uWebSockets.js and refuses to run on its JS fallback. The package we install under that
 * name (@trufflesuite/uws-js-unofficial, see design.md) silently falls back to a slow Node
 * implementation when its native binary does not load (wrong Node ABI, platform, or
 * UWS_USE_FALLBACK=1). The native addon exports `SSLApp` and `getParts`, and its `.node` file
 * sits in the require cache; the fallback has neither.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import type * as UWS from 'uWebSockets.js';

const require = createRequire(import.meta.url);

export type Uws = typeof UWS;

export class NativeUwsMissing extends Error {}

/** The package's native addon, if one was loaded (its path is in the CommonJS require cache). */
function loadedNativeBinary(): string | undefined {
  const root = path.dirname(path.dirname(require.resolve('uWebSockets.js')));
  return Object.keys(require.cache).find((file) => file.startsWith(root) && file.endsWith('.node'));
}

let loaded: Uws | undefined;

/** uWebSockets.js, native only. Throws NativeUwsMissing (with the reason) on the fallback. */
export function loadUws(): Uws {
  if (loaded) return loaded;
  const uws = require('uWebSockets.js') as Uws & { SSLApp?: unknown; getParts?: unknown };
  const binary = loadedNativeBinary();
  if (typeof uws.SSLApp !== 'function' || typeof uws.getParts !== 'function' || !binary) {
    const abi = `${process.platform}_${process.arch}_${process.versions.modules}`;
    throw new NativeUwsMissing(
      `uWebSockets.js fell back to its JS implementation (no native binary for ${abi}` +
        `${process.env.UWS_USE_FALLBACK ? ', UWS_USE_FALLBACK is set' : ''}); refusing to run the WebSocket node. ` +
        'Use Node 20 on linux/darwin x64/arm64, or install a uWebSockets.js build for this platform.',
    );
  }
  loaded = uws;
  return uws;
}

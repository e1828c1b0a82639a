import crypto from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import type { Plugin } from 'vite';

/** What the worker imports: the two scripts a threaded-WASM pthread needs, as file names beside the worker chunk. */
export const WASM_THREADS_MODULE = 'virtual:whycam-wasm-threads';
const RESOLVED = `\0${WASM_THREADS_MODULE}`;

const require = createRequire(import.meta.url);

/**
 * Ships tfjs-backend-wasm's pthread scripts as real files of this origin, so that threaded WASM
 * starts from Vite's module worker under a CSP with `worker-src 'self'` and no `blob:`.
 *
 * tfjs builds both from strings at run time: the pthread worker from `wasmWorkerContents` (a
 * blob: URL) and the Emscripten factory it loads with `importScripts` from
 * `factory.toString()` (another blob). In a bundle the second cannot work: the bundler renames
 * what the factory's body refers to outside itself, so the pthread throws `ReferenceError`.
 * Here the factory is the package's own unbundled file, byte for byte, and the pthread script is
 * the package's string written to a file. Both are named by content hash and precached like any
 * other asset. In development (no build) the module exports nulls, and the app runs single-threaded.
 */
export function wasmThreadsPlugin(): Plugin {
  let building = false;
  return {
    name: 'whycam-wasm-threads',
    configResolved(config) {
      building = config.command === 'build';
    },
    resolveId(id) {
      return id === WASM_THREADS_MODULE ? RESOLVED : undefined;
    },
    load(id) {
      if (id !== RESOLVED) return undefined;
      if (!building) return 'export const pthreadScript = null; export const factoryScript = null;';
      const factoryFile = require.resolve('@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.js');
      const { wasmWorkerContents } =
        require('@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.worker.js') as {
          wasmWorkerContents: string;
        };
      const emit = (stem: string, source: string): string => {
        const name = `${stem}-${crypto.createHash('sha256').update(source).digest('hex').slice(0, 8)}.js`;
        this.emitFile({ type: 'asset', fileName: `assets/${name}`, source });
        return name;
      };
      const factoryScript = emit('tfjs-wasm-threaded-simd', fs.readFileSync(factoryFile, 'utf8'));
      // The string came out of a template literal that turned the source's `\n` escapes into real
      // line breaks, which end string literals early: put them back, as tfjs does before its blob.
      const pthreadScript = emit('tfjs-wasm-pthread', wasmWorkerContents.replace(/\n/g, '\\n'));
      return `export const pthreadScript = ${JSON.stringify(pthreadScript)}; export const factoryScript = ${JSON.stringify(factoryScript)};`;
    },
  };
}

import { createRequire } from 'node:module';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { WhyCamError } from '../explain/errors.js';

/** Backends that install offline with npm (tfjs-node would download a native library). */
export type NodeBackend = 'wasm' | 'cpu';
export const NODE_BACKENDS: readonly NodeBackend[] = ['wasm', 'cpu'];

/** Selects a tfjs backend for Node; WASM (SIMD, single-threaded) is the fast one. */
export async function useNodeBackend(name: NodeBackend = 'wasm'): Promise<void> {
  if (!NODE_BACKENDS.includes(name)) {
    throw new WhyCamError(
      'bad-option',
      `Unknown backend "${String(name)}".`,
      `Valid backends here: ${NODE_BACKENDS.join(', ')}.`,
    );
  }
  // Production mode: no debug checks, and no advice to install tfjs-node (it downloads a native library).
  tf.env().set('PROD', true);
  if (name === 'wasm') {
    const require = createRequire(import.meta.url);
    const dist = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
    setWasmPaths(dist + path.sep);
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  }
  if (!(await tf.setBackend(name))) {
    throw new WhyCamError('bad-option', `The ${name} backend failed to start.`);
  }
  await tf.ready();
}

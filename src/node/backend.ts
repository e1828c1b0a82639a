import { createRequire } from 'node:module';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { WhyCamError } from '../explain/errors.js';

/**
 * Backends that install offline with npm (tfjs-node would download a native library). `webgpu`
 * runs tfjs-backend-webgpu on Google's Dawn through the optional `webgpu` npm package, for GPU
 * machines (see docs/benchmarks.md).
 */
export type NodeBackend = 'wasm' | 'cpu' | 'webgpu';
export const NODE_BACKENDS: readonly NodeBackend[] = ['wasm', 'cpu', 'webgpu'];

/** The `webgpu` package's API as used here. */
interface DawnModule {
  create(flags: string[]): { requestAdapter(): Promise<{ info?: object } | null> };
  globals: object;
}

/**
 * Makes WebGPU available to tfjs under Node and returns the adapter's description. tfjs-backend-webgpu
 * registers itself only if `navigator.gpu` exists when it is imported, so it is imported after.
 */
async function startDawn(): Promise<string> {
  let dawn: DawnModule;
  try {
    // A variable specifier: the package is optional, installed only where a GPU is.
    const specifier = 'webgpu';
    dawn = (await import(specifier)) as DawnModule;
  } catch {
    throw new WhyCamError(
      'bad-option',
      'The webgpu backend under Node needs the "webgpu" package (Dawn), which is not installed.',
      'On a machine with a GPU: npm install --no-save webgpu@0.6.2',
    );
  }
  Object.assign(globalThis, dawn.globals);
  // allow_unsafe_apis exposes timestamp queries (the GPU's own time per dispatch) where the adapter has them.
  const gpu = dawn.create(['enable-dawn-features=allow_unsafe_apis']);
  Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
  const adapter = await gpu.requestAdapter();
  if (!adapter) {
    throw new WhyCamError(
      'bad-option',
      'No WebGPU adapter: this machine has no GPU with a Vulkan driver that Dawn can use.',
      'Use --backend wasm, or point VK_DRIVER_FILES at a Vulkan driver (e.g. an NVIDIA ICD).',
    );
  }
  await import('@tensorflow/tfjs-backend-webgpu');
  return JSON.stringify(adapter.info ?? {});
}

/** Selects a tfjs backend for Node; WASM (SIMD, single-threaded) is the fast one on a CPU. Returns a description. */
export async function useNodeBackend(name: NodeBackend = 'wasm'): Promise<string> {
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
  const adapter = name === 'webgpu' ? await startDawn() : null;
  if (!(await tf.setBackend(name))) {
    throw new WhyCamError('bad-option', `The ${name} backend failed to start.`);
  }
  await tf.ready();
  return adapter ? `${name} (${adapter})` : name;
}

// Declares the build-generated module below for every program that includes this file (the page's tsconfig reaches it too).
// eslint-disable-next-line @typescript-eslint/triple-slash-reference
/// <reference path="./wasm-threads-assets.d.ts" />
import * as tf from '@tensorflow/tfjs-core';
import { BackendWasm, setThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import wasmThreadedSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import threadedFactoryImport from '@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.js';
import type {
  BackendWasmThreadedSimdModule,
  WasmFactoryConfig,
} from '@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.js';
import { factoryScript, pthreadScript } from 'virtual:whycam-wasm-threads';

type ThreadedFactory = (config: WasmFactoryConfig) => Promise<BackendWasmThreadedSimdModule>;
// The factory is CommonJS: depending on interop it arrives as the default export or as the module.
const threadedFactory = ((threadedFactoryImport as unknown as { default?: ThreadedFactory }).default ??
  threadedFactoryImport) as unknown as ThreadedFactory;

/** tfjs's own single-threaded WASM backend, kept to go back to. */
const singleThreadedFactory = tf.findBackendFactory('wasm');

/**
 * Why threaded WASM cannot run here, or null if it can: it needs shared memory, which browsers
 * give only to cross-origin isolated pages (COOP same-origin + COEP), and the pthread scripts the
 * build ships (none in development).
 */
export function threadsUnavailable(): string | null {
  if (!pthreadScript || !factoryScript) return 'development build (no pthread scripts)';
  if (!self.crossOriginIsolated) return 'the page is not cross-origin isolated (COOP/COEP headers missing)';
  if (typeof SharedArrayBuffer === 'undefined') return 'no SharedArrayBuffer';
  return null;
}

/** Emscripten's wrappers that tfjs's BackendWasm calls (tfjs sets the same ones up in its own init). */
function bridge(module: BackendWasmThreadedSimdModule): void {
  const { cwrap } = module as unknown as {
    cwrap: (name: string, returns: string | null, args: string[]) => (...a: number[]) => number;
  };
  module.tfjs = {
    init: cwrap('init', null, []),
    initWithThreadsCount: cwrap('init_with_threads_count', null, ['number']),
    getThreadsCount: cwrap('get_threads_count', 'number', []),
    registerTensor: cwrap('register_tensor', null, ['number', 'number', 'number']),
    disposeData: cwrap('dispose_data', null, ['number']),
    dispose: cwrap('dispose', null, []),
  };
}

/**
 * tfjs's C++ caps its thread pool at `navigator.hardwareConcurrency / 2` (it assumes two
 * hyper-threads per core), read once while the module starts: on a 2-core machine that is one
 * thread whatever setThreadsCount asks. For that start only, the worker's navigator reports
 * enough cores for the count asked; Emscripten reads nothing else from it (its pool of 8 pthread
 * workers is fixed at build time).
 */
async function withLogicalCores<T>(cores: number, work: () => Promise<T>): Promise<T> {
  const real = navigator.hardwareConcurrency ?? 1;
  if (cores <= real) return work();
  Object.defineProperty(navigator, 'hardwareConcurrency', { value: cores, configurable: true });
  try {
    return await work();
  } finally {
    delete (navigator as { hardwareConcurrency?: number }).hardwareConcurrency;
  }
}

/**
 * Starts the threaded SIMD binary the way tfjs would, except that the pthreads load the scripts
 * the build emitted (same origin, real URLs) instead of blobs made from bundled code.
 */
async function createThreadedBackend(threads: number): Promise<BackendWasm> {
  const here = (name: string): string => new URL(name, import.meta.url).href;
  return withLogicalCores(2 * threads, async () => {
    let aborted = '';
    const module = await threadedFactory({
      mainScriptUrlOrBlob: here(factoryScript!),
      locateFile: (path: string) => {
        if (path.endsWith('.worker.js')) return here(pthreadScript!);
        if (path.endsWith('.wasm')) return new URL(wasmThreadedSimd, self.location.href).href;
        return path;
      },
      onAbort: () => {
        aborted = 'the threaded WASM module aborted while starting';
      },
    } as WasmFactoryConfig);
    if (aborted) throw new Error(aborted);
    bridge(module);
    setThreadsCount(threads);
    const backend = new BackendWasm(module);
    reserveHeap(module);
    return backend;
  });
}

/**
 * Shared WASM memory that grows while the pthreads run stalled Firefox 153 for good after a dozen
 * frames (the worker waits forever; Chromium carries on). Growing it once, up front, to more
 * than a frame of the largest model needs (the 0.75 model peaks at about 72 MB), means it never
 * has to grow during a frame. Untouched pages cost no physical memory.
 */
const HEAP_RESERVE_BYTES = 256 * 1024 * 1024;

function reserveHeap(module: BackendWasmThreadedSimdModule): void {
  const heap = module as unknown as { _malloc(bytes: number): number; _free(pointer: number): void };
  const pointer = heap._malloc(HEAP_RESERVE_BYTES);
  if (pointer) heap._free(pointer);
}

/** The threads XNNPACK runs with in the current WASM backend (asked from the module: tfjs's getThreadsCount() is read before the pool exists). */
export function wasmThreadsInUse(): number {
  return (tf.backend() as BackendWasm).wasm.tfjs.getThreadsCount();
}

/** Makes `tf.setBackend('wasm')` start the threaded binary with `threads` threads (takes effect on the next start). */
export function useThreadedWasm(threads: number): void {
  tf.removeBackend('wasm');
  tf.registerBackend('wasm', () => createThreadedBackend(threads), 2);
}

/** Makes `tf.setBackend('wasm')` start tfjs's single-threaded SIMD binary again. */
export function useSingleThreadedWasm(): void {
  tf.removeBackend('wasm');
  if (singleThreadedFactory) tf.registerBackend('wasm', singleThreadedFactory, 2);
}

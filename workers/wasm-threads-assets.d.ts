/** Emitted by scripts/vite-wasm-threads.ts: file names beside the worker chunk, or null in development. */
declare module 'virtual:whycam-wasm-threads' {
  /** The Emscripten pthread worker script (a classic worker). */
  export const pthreadScript: string | null;
  /** tfjs-backend-wasm's threaded SIMD factory, unbundled, for the pthreads' importScripts. */
  export const factoryScript: string | null;
}

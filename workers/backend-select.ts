import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-webgl';
import '@tensorflow/tfjs-backend-webgpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import wasmPlain from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreaded from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import { WhyCamError } from '../src/explain/errors.js';
import { BACKENDS, type BackendName } from '../src/protocol.js';
import { threadsUnavailable, useSingleThreadedWasm, useThreadedWasm, wasmThreadsInUse } from './wasm-threads.js';

// tfjs's own 'wasm' backend runs single-threaded: its threaded start-up builds the pthreads from
// bundled code and fails in this module worker. Threads, where they pay, come from wasm-threads.ts.
setWasmPaths({
  'tfjs-backend-wasm.wasm': wasmPlain,
  'tfjs-backend-wasm-simd.wasm': wasmSimd,
  'tfjs-backend-wasm-threaded-simd.wasm': wasmThreaded,
});
tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
// tfjs refuses WebGL on a software renderer unless told; whether it is worth using is measured below.
tf.env().set('SOFTWARE_WEBGL_ENABLED', true);
tf.env().set('PROD', true);

export interface BackendChoice {
  name: BackendName;
  /** Why each better backend was not used. */
  notes: string[];
  /** Threads the WASM backend computes with: 1 when single-threaded (and for every other backend); absent means 1. */
  wasmThreads?: number;
}

interface GpuAdapterLike {
  info?: { vendor?: string; architecture?: string; description?: string; isFallbackAdapter?: boolean };
  isFallbackAdapter?: boolean;
}

interface GpuLike {
  requestAdapter(): Promise<GpuAdapterLike | null>;
}

/** Whether the GPU backend would run on a software rasteriser, and its name if so. */
async function softwareRenderer(name: 'webgpu' | 'webgl'): Promise<string | null | 'unavailable'> {
  if (name === 'webgpu') {
    const gpu = (navigator as unknown as { gpu?: GpuLike }).gpu;
    if (!gpu) return 'unavailable';
    const adapter = await gpu.requestAdapter();
    if (!adapter) return 'unavailable';
    const info = adapter.info ?? {};
    const described = [info.vendor, info.architecture, info.description].filter(Boolean).join(' ');
    if (info.isFallbackAdapter || adapter.isFallbackAdapter || /swiftshader|llvmpipe|software/i.test(described)) {
      return described || 'fallback adapter';
    }
    return null;
  }
  if (typeof OffscreenCanvas === 'undefined') return 'unavailable';
  const gl = new OffscreenCanvas(1, 1).getContext('webgl2');
  if (!gl) return 'unavailable';
  const debug = gl.getExtension('WEBGL_debug_renderer_info');
  const renderer = String(debug ? gl.getParameter(debug.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER));
  gl.getExtension('WEBGL_lose_context')?.loseContext();
  return /swiftshader|llvmpipe|software/i.test(renderer) ? renderer : null;
}

/**
 * Milliseconds for one depthwise-separable block (the bulk of MobileNet's work) on the current
 * backend, after a compiling run: a short, comparable measure of how fast a backend really is.
 */
async function probe(runs = 3): Promise<number> {
  const x = tf.randomUniform([1, 56, 56, 64]) as tf.Tensor4D;
  const dw = tf.randomUniform([3, 3, 64, 1]) as tf.Tensor4D;
  const pw = tf.randomUniform([1, 1, 64, 128]) as tf.Tensor4D;
  const once = async (): Promise<void> => {
    const y = tf.tidy(() => tf.sum(tf.conv2d(tf.relu6(tf.depthwiseConv2d(x, dw, 1, 'same')), pw, 1, 'same')));
    await y.data();
    y.dispose();
  };
  try {
    await once();
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      await once();
      times.push(performance.now() - t0);
    }
    return times.sort((a, b) => a - b)[Math.floor(runs / 2)]!;
  } finally {
    tf.dispose([x, dw, pw]);
  }
}

/** Runs of the probe when comparing thread counts: a median over enough runs to see a 10% difference. */
const THREAD_PROBE_RUNS = 15;
/** Threads must beat one thread by this much to be used: they cost a pool of workers and memory. */
const THREADS_MIN_GAIN = 0.9;

/**
 * A build-time override for benchmarks (`VITE_WASM_THREADS=1|2|… vite build`): that thread count,
 * unmeasured. Unset in normal builds: the count is measured.
 */
const FORCED_THREADS = Number((import.meta.env as Record<string, string | undefined>)['VITE_WASM_THREADS'] ?? 0);

/** A threaded start that has not finished by then is taken as hung (a pthread that never loaded). */
const THREADS_START_MS = 20_000;

function withDeadline<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} in ${ms / 1000} s`)), ms);
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}

/**
 * Why threads are not even tried here, or null. On 2 logical cores the page's thread and the
 * browser's video work already take the second core: every measurement on the 2-core test machine
 * chose 1 thread. In Firefox 153 a second threaded start in the same browser (a reload, a second
 * tab) hung the worker for good (no timer fires, so no deadline catches it): until that is
 * understood, Firefox runs single-threaded (forced builds, VITE_WASM_THREADS, still start threads).
 */
function threadsNotWorthMeasuring(cores: number): string | null {
  if (cores <= 2) return `${cores} logical core${cores === 1 ? '' : 's'} (threads lost every measurement on 2)`;
  if (/\bFirefox\//.test(navigator.userAgent)) return 'Firefox (a second threaded start in the same browser hangs)';
  return null;
}

/**
 * Measures the threaded WASM binary at each candidate thread count, then the single-threaded one
 * (last, so that nothing measured before, such as a GPU probe, still weighs on it), and keeps the
 * fastest; threads only when at least 10% faster. Leaves the chosen variant running and returns
 * its thread count.
 */
async function chooseWasmThreads(notes: string[]): Promise<number> {
  const unavailable = threadsUnavailable();
  const cores = navigator.hardwareConcurrency ?? 1;
  if (unavailable) {
    notes.push(`wasm threads: ${unavailable}, single-threaded`);
    return 1;
  }
  if (FORCED_THREADS < 1) {
    const skip = threadsNotWorthMeasuring(cores);
    if (skip) {
      notes.push(`wasm threads: ${skip}, single-threaded`);
      return 1;
    }
  }
  if (FORCED_THREADS >= 1) {
    if (FORCED_THREADS > 1) {
      useThreadedWasm(FORCED_THREADS);
      await withDeadline(start('wasm'), THREADS_START_MS, 'the threaded WASM backend did not start');
    }
    notes.push(`wasm threads: ${wasmThreadsInUse()} set by this build (VITE_WASM_THREADS=${FORCED_THREADS})`);
    return wasmThreadsInUse();
  }
  // The pthread pool Emscripten builds holds 8 workers: more threads than that gain nothing.
  const candidates = [...new Set([2, Math.ceil(cores / 2), cores].map((n) => Math.min(n, 8)))].filter((n) => n >= 2);
  const threaded: { threads: number; ms: number }[] = [];
  const measured: string[] = [];
  for (const threads of candidates) {
    try {
      useThreadedWasm(threads);
      await withDeadline(start('wasm'), THREADS_START_MS, 'the threaded WASM backend did not start');
      const ms = await probe(THREAD_PROBE_RUNS);
      measured.push(`${wasmThreadsInUse()}: ${ms.toFixed(2)} ms`);
      threaded.push({ threads: wasmThreadsInUse(), ms });
    } catch (e) {
      measured.push(`${threads}: failed (${(e as Error).message})`);
      break;
    }
  }
  useSingleThreadedWasm();
  await start('wasm');
  const single = await probe(THREAD_PROBE_RUNS);
  measured.unshift(`1: ${single.toFixed(2)} ms`);
  const fastest = threaded.sort((a, b) => a.ms - b.ms)[0];
  const threads = fastest && fastest.threads > 1 && fastest.ms < single * THREADS_MIN_GAIN ? fastest.threads : 1;
  if (threads > 1) {
    useThreadedWasm(threads);
    await start('wasm');
  }
  notes.push(`wasm threads: ${threads} chosen by measurement (ms per block, by threads: ${measured.join(', ')})`);
  return threads;
}

async function start(name: BackendName): Promise<void> {
  let ok: boolean;
  try {
    ok = await tf.setBackend(name);
  } catch (e) {
    throw new WhyCamError('bad-option', `The ${name} backend failed to start: ${(e as Error).message}`);
  }
  if (!ok) throw new WhyCamError('bad-option', `The ${name} backend failed to start in this browser.`);
  await tf.ready();
}

/**
 * Picks the backend: WebGPU, then WebGL, then WASM, then CPU. A GPU backend that runs on a
 * software rasteriser (SwiftShader: no GPU, or a blocklisted one) is used only if a short
 * measurement shows it beating WASM. `forced` skips the choice (and fails if it cannot start).
 */
export async function chooseBackend(forced: BackendName | null): Promise<BackendChoice> {
  if (forced) {
    if (!BACKENDS.includes(forced)) {
      throw new WhyCamError('bad-option', `Unknown backend "${forced}".`, `Valid: ${BACKENDS.join(', ')}.`);
    }
    await start(forced);
    const notes = [`${forced}: forced by ?backend=${forced}`];
    const wasmThreads = forced === 'wasm' ? await chooseWasmThreads(notes) : 1;
    return { name: forced, notes, wasmThreads };
  }
  const notes: string[] = [];
  let wasmMs: number | undefined;
  const wasmProbe = async (): Promise<number> => {
    if (wasmMs === undefined) {
      await start('wasm');
      wasmMs = await probe();
    }
    return wasmMs;
  };
  for (const name of ['webgpu', 'webgl'] as const) {
    try {
      const software = await softwareRenderer(name);
      if (software === 'unavailable') {
        notes.push(
          name === 'webgpu'
            ? 'webgpu: not available in this browser (no adapter)'
            : 'webgl: WebGL2 is not available in workers here',
        );
        continue;
      }
      if (software === null) {
        await start(name);
        return { name, notes, wasmThreads: 1 };
      }
      const reference = await wasmProbe();
      await start(name);
      const ms = await probe();
      if (ms < reference) {
        notes.push(
          `${name}: software renderer (${software}), but measured faster than wasm (${ms.toFixed(1)} vs ${reference.toFixed(1)} ms)`,
        );
        return { name, notes, wasmThreads: 1 };
      }
      notes.push(
        `${name}: software renderer (${software}), ${(ms / reference).toFixed(0)}× slower than wasm (${ms.toFixed(1)} vs ${reference.toFixed(1)} ms per block)`,
      );
    } catch (e) {
      notes.push(`${name}: ${(e as Error).message}`);
    }
  }
  try {
    await start('wasm');
    return { name: 'wasm', notes, wasmThreads: await chooseWasmThreads(notes) };
  } catch (e) {
    notes.push(`wasm: ${(e as Error).message}`);
  }
  await start('cpu');
  return { name: 'cpu', notes, wasmThreads: 1 };
}

/**
 * After a lost GPU device: drops the dead backend, registers a fresh instance of it and starts it
 * (or, if that fails, chooses again among the others).
 */
export async function restartBackend(name: BackendName, forced: BackendName | null): Promise<BackendChoice> {
  const factory = tf.findBackendFactory(name);
  tf.removeBackend(name);
  if (factory) tf.registerBackend(name, factory);
  try {
    await start(name);
    return { name, notes: [], wasmThreads: name === 'wasm' ? wasmThreadsInUse() : 1 };
  } catch (e) {
    if (forced) throw e;
    return chooseBackend(null);
  }
}

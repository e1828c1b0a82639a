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

// Threaded WASM hangs inside a bundled module worker (its pthread workers fail to start), and
// gives nothing on two cores anyway: single-threaded SIMD is the fast CPU path.
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
async function probe(): Promise<number> {
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
    const t0 = performance.now();
    for (let i = 0; i < 3; i++) await once();
    return (performance.now() - t0) / 3;
  } finally {
    tf.dispose([x, dw, pw]);
  }
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
    return { name: forced, notes: [`${forced}: forced by ?backend=${forced}`] };
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
        notes.push(name === 'webgpu' ? 'webgpu: not available in this browser (no adapter)' : 'webgl: WebGL2 is not available in workers here');
        continue;
      }
      if (software === null) {
        await start(name);
        return { name, notes };
      }
      const reference = await wasmProbe();
      await start(name);
      const ms = await probe();
      if (ms < reference) {
        notes.push(`${name}: software renderer (${software}), but measured faster than wasm (${ms.toFixed(1)} vs ${reference.toFixed(1)} ms)`);
        return { name, notes };
      }
      notes.push(`${name}: software renderer (${software}), ${(ms / reference).toFixed(0)}× slower than wasm (${ms.toFixed(1)} vs ${reference.toFixed(1)} ms per block)`);
    } catch (e) {
      notes.push(`${name}: ${(e as Error).message}`);
    }
  }
  try {
    await start('wasm');
    return { name: 'wasm', notes };
  } catch (e) {
    notes.push(`wasm: ${(e as Error).message}`);
  }
  await start('cpu');
  return { name: 'cpu', notes };
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
    return { name, notes: [] };
  } catch (e) {
    if (forced) throw e;
    return chooseBackend(null);
  }
}

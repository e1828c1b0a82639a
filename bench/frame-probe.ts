/**
 * What one frame costs beyond its wall time: how many kernels it runs and how long the GPU spent
 * in them. Used by `bench:node` and by the browser micro-benchmark's worker (no Node imports).
 */
import * as tf from '@tensorflow/tfjs-core';

/** Kernels that only relabel a tensor's shape or alias it: they dispatch no work. */
const SHAPE_ONLY = new Set(['Reshape', 'ExpandDims', 'Squeeze', 'Identity']);

interface KernelRunner {
  runKernelFunc(params: { kernelName?: string }): unknown;
}

/**
 * Runs `frame` and counts the kernels it asks the engine for: each counted once (a kernel that
 * runs others inside it counts as one, unlike `tf.profile`'s flat list), shape-only ones left out.
 * Returns the count and the names, in order, for diagnosis.
 */
export async function countKernels(frame: () => Promise<unknown>): Promise<{ kernels: number; names: string[] }> {
  const engine = tf.engine() as unknown as KernelRunner;
  const original = engine.runKernelFunc;
  const names: string[] = [];
  let depth = 0;
  engine.runKernelFunc = function (this: KernelRunner, params) {
    // A custom-gradient scope (tf.fused.* wraps its kernel in one) is not a kernel: only registered kernels nest.
    if (!params.kernelName) return original.call(this, params);
    if (depth === 0 && !SHAPE_ONLY.has(params.kernelName)) names.push(params.kernelName);
    depth++;
    try {
      return original.call(this, params);
    } finally {
      depth--;
    }
  };
  try {
    await frame();
  } finally {
    engine.runKernelFunc = original;
  }
  return { kernels: names.length, names };
}

interface TimerQuery {
  name: string;
  query: Promise<number> | number;
}
interface TimedWebGpuBackend {
  supportTimestampQuery?: boolean;
  activeTimers?: TimerQuery[] | null;
  programTimersStack?: TimerQuery[] | null;
}

/**
 * The summed GPU time of every dispatch `frame` makes, from WebGPU timestamp queries, or null
 * where the backend is not WebGPU or the adapter does not expose timestamp queries. It hooks the
 * backend's own per-program timers (what `tf.time` uses), which `tf.time` cannot do for an
 * asynchronous frame. Timing every dispatch slows the frame: measure it apart from wall time.
 */
export async function gpuTime(frame: () => Promise<unknown>): Promise<number | null> {
  const profile = await gpuProfile(frame);
  return profile && profile.reduce((sum, k) => sum + k.ms, 0);
}

/** Each dispatch of `frame` with its GPU time, in order (null as for gpuTime). */
export async function gpuProfile(frame: () => Promise<unknown>): Promise<{ name: string; ms: number }[] | null> {
  if (tf.getBackend() !== 'webgpu') return null;
  const backend = tf.backend() as unknown as TimedWebGpuBackend;
  if (!backend.supportTimestampQuery) return null;
  const timers: TimerQuery[] = [];
  backend.activeTimers = timers;
  backend.programTimersStack = timers;
  try {
    await frame();
  } finally {
    backend.activeTimers = null;
    backend.programTimersStack = null;
  }
  const ms = await Promise.all(timers.map((t) => Promise.resolve(t.query)));
  return timers.map((t, i) => ({ name: t.name, ms: ms[i]! }));
}

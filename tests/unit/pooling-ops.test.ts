import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import '@tensorflow/tfjs-backend-cpu';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Padding4, PoolAttrs } from '../../src/explain/network/graph.js';
import { lrnOps } from '../../src/explain/network/lrn-ops.js';
import { avgPoolOps, globalAvgPoolOps, maxPoolOps } from '../../src/explain/network/pooling-ops.js';
import { concatOps, softmaxOps } from '../../src/explain/network/softmax-ops.js';
import type { StepOps } from '../../src/explain/network/step.js';
import { WeightStore } from '../../src/explain/network/weights.js';
import { type NodeBackend, useNodeBackend } from '../../src/node/backend.js';
import { maxAbsDiff } from '../helpers/stats.js';

// The pooling, LRN, softmax and concat steps' own forward and backward passes (forward ops only)
// against independent references: tf.grad of the matching tf op, computed on the cpu backend
// (WASM's MaxPoolGrad spreads ties differently), and loops written from Caffe's pooling code
// where no tf op has the same windows (round-up pads, Caffe's average divisor), themselves
// checked against central finite differences. Each runs on cpu and on WASM.
//
// tfjs's AvgPoolGrad divides by k·k even where its forward divided by fewer (padded 'same'
// windows), so padded TensorFlow average pooling is checked against the loop instead.

type Fill = 'relu' | 'ties' | 'smooth';

interface Case {
  name: string;
  inputs: number[][];
  output: number[];
  fill: Fill;
  build(weights: WeightStore): StepOps;
  /** The tf op the step stands for: its forward and tf.grad (cpu) are the reference. */
  tfOp?: (xs: tf.Tensor[]) => tf.Tensor;
  /** Or a loop reference (one input): the output, and dL/dx for L = Σ y · dy. */
  loop?: (x: Float32Array, dy: Float32Array) => { y: Float64Array; dx: Float64Array };
  /** Kernels the backward dispatches, reshapes (which share their data) not counted. */
  kernels: number;
}

/** A deterministic stream of uniforms in [0, 1) (mulberry32), so that failures reproduce. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const size = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

function values(n: number, fill: Fill, seed: number): Float32Array {
  const next = random(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const u = next();
    // 'relu': ~60 % zeros, so many windows tie at 0; 'ties': also few distinct positive values.
    if (fill === 'relu') out[i] = Math.max(0, u * 1.6 - 1);
    else if (fill === 'ties') out[i] = Math.max(0, Math.round(u * 6 - 3)) / 2;
    else out[i] = u * 4 - 2;
  }
  return out;
}

// ---- Loop references, after Caffe's pooling_layer.cpp (row-major windows, NHWC, batch 1). ----

interface LoopGeometry {
  h: number;
  w: number;
  c: number;
  oh: number;
  ow: number;
  attrs: PoolAttrs;
}

/** Caffe's max pooling: windows clipped to the input, the first strict maximum takes the gradient. */
function maxPoolLoop(g: LoopGeometry, x: ArrayLike<number>, dy: ArrayLike<number>) {
  const { h, w, c, oh, ow } = g;
  const [kh, kw] = g.attrs.kernel;
  const [sh, sw] = g.attrs.strides;
  const [top, , left] = g.attrs.pads;
  const y = new Float64Array(oh * ow * c);
  const dx = new Float64Array(h * w * c);
  for (let a = 0; a < oh; a++) {
    for (let b = 0; b < ow; b++) {
      for (let ch = 0; ch < c; ch++) {
        const hs = a * sh - top;
        const ws = b * sw - left;
        let best = -Infinity;
        let at = -1;
        for (let r = Math.max(hs, 0); r < Math.min(hs + kh, h); r++) {
          for (let q = Math.max(ws, 0); q < Math.min(ws + kw, w); q++) {
            const i = (r * w + q) * c + ch;
            if (x[i]! > best) {
              best = x[i]!;
              at = i;
            }
          }
        }
        const o = (a * ow + b) * c + ch;
        y[o] = best;
        dx[at] += dy[o]!;
      }
    }
  }
  return { y, dx };
}

/**
 * Average pooling. 'caffe': hstart = ph·s − pad, hend = min(hstart + k, H + pad), pool_size =
 * (hend − hstart)·(wend − wstart) before both are clipped to the input (pad = the top / left pad).
 * 'tf': the divisor is the number of positions inside the input.
 */
function avgPoolLoop(g: LoopGeometry, rule: 'caffe' | 'tf', x: ArrayLike<number>, dy: ArrayLike<number>) {
  const { h, w, c, oh, ow } = g;
  const [kh, kw] = g.attrs.kernel;
  const [sh, sw] = g.attrs.strides;
  const [top, , left] = g.attrs.pads;
  const y = new Float64Array(oh * ow * c);
  const dx = new Float64Array(h * w * c);
  for (let a = 0; a < oh; a++) {
    for (let b = 0; b < ow; b++) {
      let hs = a * sh - top;
      let ws = b * sw - left;
      let he = Math.min(hs + kh, h + top);
      let we = Math.min(ws + kw, w + left);
      const caffeSize = (he - hs) * (we - ws);
      hs = Math.max(hs, 0);
      ws = Math.max(ws, 0);
      he = Math.min(he, h);
      we = Math.min(we, w);
      const divisor = rule === 'caffe' ? caffeSize : (he - hs) * (we - ws);
      for (let ch = 0; ch < c; ch++) {
        const o = (a * ow + b) * c + ch;
        let sum = 0;
        for (let r = hs; r < he; r++) for (let q = ws; q < we; q++) sum += x[(r * w + q) * c + ch]!;
        y[o] = sum / divisor;
        for (let r = hs; r < he; r++) for (let q = ws; q < we; q++) dx[(r * w + q) * c + ch] += dy[o]! / divisor;
      }
    }
  }
  return { y, dx };
}

/** Caffe's pooled size (ceil, then dropped if the last window would start in the padding) and its pads. */
function caffePool(size: number, k: number, s: number, pad: number): { out: number; pads: [number, number] } {
  let out = Math.ceil((size + 2 * pad - k) / s) + 1;
  if (pad > 0 && (out - 1) * s >= size + pad) out--;
  return { out, pads: [pad, (out - 1) * s + k - size - pad] };
}

function pool(kernel: number, stride: number, pads: Padding4): PoolAttrs {
  return { kernel: [kernel, kernel], strides: [stride, stride], pads };
}

function maxCase(
  name: string,
  input: number[],
  output: number[],
  attrs: PoolAttrs,
  fill: Fill,
  reference: 'valid' | 'same' | 'loop',
  kernels: number,
): Case {
  const [, h, w, c] = input as [number, number, number, number];
  const [, oh, ow] = output as [number, number, number];
  const g: LoopGeometry = { h, w, c, oh, ow, attrs };
  return {
    name,
    inputs: [input],
    output,
    fill,
    build: (weights) => maxPoolOps(attrs, input, output, weights, name),
    ...(reference === 'loop'
      ? { loop: (x, dy) => maxPoolLoop(g, x, dy) }
      : { tfOp: ([x]) => tf.maxPool(x as tf.Tensor4D, attrs.kernel as [number, number], attrs.strides as [number, number], reference) }),
    kernels,
  };
}

function avgCase(
  name: string,
  input: number[],
  output: number[],
  attrs: PoolAttrs & { countPads: Padding4 },
  reference: 'valid' | 'tf' | 'caffe',
  kernels: number,
): Case {
  const [, h, w, c] = input as [number, number, number, number];
  const [, oh, ow] = output as [number, number, number];
  const g: LoopGeometry = { h, w, c, oh, ow, attrs };
  return {
    name,
    inputs: [input],
    output,
    fill: 'smooth',
    build: (weights) => avgPoolOps(attrs, input, output, weights, name),
    ...(reference === 'valid'
      ? { tfOp: ([x]) => tf.avgPool(x as tf.Tensor4D, attrs.kernel as [number, number], attrs.strides as [number, number], 'valid') }
      : { loop: (x, dy) => avgPoolLoop(g, reference, x, dy) }),
    kernels,
  };
}

const caffe13 = caffePool(13, 3, 2, 0);
const caffe14 = caffePool(14, 3, 2, 0);
const caffe112 = caffePool(112, 3, 2, 0);
const caffeAvg7 = caffePool(7, 3, 2, 1);
const caffeAvg8 = caffePool(8, 3, 2, 1);
const caffeAvg5 = caffePool(5, 2, 2, 1);

const NO_PADS: Padding4 = [0, 0, 0, 0];
const ONE: Padding4 = [1, 1, 1, 1];

const CASES: Case[] = [
  maxCase('max 3×3/2 valid, post-ReLU', [1, 9, 9, 4], [1, 4, 4, 4], pool(3, 2, NO_PADS), 'relu', 'valid', 7),
  maxCase('max 3×3/2 same (pads [0,1,0,1]), post-ReLU', [1, 8, 8, 3], [1, 4, 4, 3], pool(3, 2, [0, 1, 0, 1]), 'relu', 'same', 8),
  maxCase('max 3×3/1 same (pads 1), post-ReLU', [1, 7, 7, 3], [1, 7, 7, 3], pool(3, 1, ONE), 'relu', 'same', 8),
  maxCase('max 2×2/2 valid, few values', [1, 6, 6, 3], [1, 3, 3, 3], pool(2, 2, NO_PADS), 'ties', 'valid', 7),
  maxCase('max 1×1/2 valid', [1, 5, 5, 3], [1, 3, 3, 3], pool(1, 2, NO_PADS), 'relu', 'valid', 3),
  maxCase(
    'max 3×3/2 Caffe 112 → 56 (pads [0,1,0,1]), post-ReLU',
    [1, 112, 112, 2],
    [1, caffe112.out, caffe112.out, 2],
    pool(3, 2, [...caffe112.pads, ...caffe112.pads]),
    'relu',
    'same',
    8,
  ),
  maxCase(
    'max 3×3/2 Caffe ceil 13 → 6 rows, 14 → 7 columns, post-ReLU',
    [1, 13, 14, 3],
    [1, caffe13.out, caffe14.out, 3],
    pool(3, 2, [...caffe13.pads, ...caffe14.pads]),
    'relu',
    'loop',
    8,
  ),
  maxCase(
    'max 3×3/2 Caffe ceil 14 × 13, few values',
    [1, 14, 13, 3],
    [1, caffe14.out, caffe13.out, 3],
    pool(3, 2, [...caffe14.pads, ...caffe13.pads]),
    'ties',
    'loop',
    8,
  ),
  avgCase('avg 2×2/2 valid', [1, 6, 6, 3], [1, 3, 3, 3], { ...pool(2, 2, NO_PADS), countPads: NO_PADS }, 'valid', 3),
  avgCase('avg 3×3/1 valid', [1, 5, 5, 3], [1, 3, 3, 3], { ...pool(3, 1, NO_PADS), countPads: NO_PADS }, 'valid', 1),
  avgCase('avg 3×3/1 TF same', [1, 7, 7, 3], [1, 7, 7, 3], { ...pool(3, 1, ONE), countPads: NO_PADS }, 'tf', 2),
  avgCase('avg 3×3/2 TF same (pads [0,1,0,1])', [1, 8, 8, 3], [1, 4, 4, 3], { ...pool(3, 2, [0, 1, 0, 1]), countPads: NO_PADS }, 'tf', 4),
  avgCase(
    'avg 3×3/2 Caffe pad 1, 7 × 8 (round-up column)',
    [1, 7, 8, 3],
    [1, caffeAvg7.out, caffeAvg8.out, 3],
    { ...pool(3, 2, [...caffeAvg7.pads, ...caffeAvg8.pads]), countPads: ONE },
    'caffe',
    4,
  ),
  avgCase('avg 3×3/1 Caffe pad 1', [1, 5, 5, 3], [1, 5, 5, 3], { ...pool(3, 1, ONE), countPads: ONE }, 'caffe', 1),
  avgCase(
    'avg 2×2/2 Caffe pad 1, 5 (last window dropped)',
    [1, 5, 5, 3],
    [1, caffeAvg5.out, caffeAvg5.out, 3],
    { ...pool(2, 2, [...caffeAvg5.pads, ...caffeAvg5.pads]), countPads: ONE },
    'caffe',
    3,
  ),
  {
    name: 'global avg [1, C]',
    inputs: [[1, 4, 5, 3]],
    output: [1, 3],
    fill: 'smooth',
    build: (weights) => globalAvgPoolOps(false, [1, 4, 5, 3], weights, 'gap'),
    tfOp: ([x]) => tf.mean(x!, [1, 2]),
    kernels: 1,
  },
  {
    name: 'global avg [1, 1, 1, C]',
    inputs: [[1, 3, 2, 4]],
    output: [1, 1, 1, 4],
    fill: 'smooth',
    build: (weights) => globalAvgPoolOps(true, [1, 3, 2, 4], weights, 'gap'),
    tfOp: ([x]) => tf.mean(x!, [1, 2], true),
    kernels: 1,
  },
  ...[
    { depthRadius: 2, bias: 1, alpha: 0.2, beta: 0.75, shape: [1, 3, 4, 7] },
    // AlexNet's and GoogLeNet's: local_size 5, alpha 1e-4 / 5, beta 0.75, k 1.
    { depthRadius: 2, bias: 1, alpha: 2e-5, beta: 0.75, shape: [1, 2, 3, 6] },
    // A window wider than the channels, and a beta far from 0.75.
    { depthRadius: 3, bias: 2, alpha: 0.5, beta: 1.5, shape: [1, 2, 2, 4] },
  ].map(({ shape, ...attrs }): Case => ({
    name: `lrn r=${attrs.depthRadius} bias=${attrs.bias} alpha=${attrs.alpha} beta=${attrs.beta}`,
    inputs: [shape],
    output: shape,
    fill: 'smooth',
    build: (weights) => lrnOps(attrs, weights, 'lrn'),
    tfOp: ([x]) => tf.localResponseNormalization(x as tf.Tensor4D, attrs.depthRadius, attrs.bias, attrs.alpha, attrs.beta),
    kernels: 9,
  })),
  ...[[1, 10], [1, 1, 1, 6]].map(
    (shape): Case => ({
      name: `softmax [${shape.join(', ')}]`,
      inputs: [shape],
      output: shape,
      fill: 'smooth',
      build: () => softmaxOps(),
      tfOp: ([x]) => tf.softmax(x!),
      kernels: 4,
    }),
  ),
  {
    name: 'concat 3 + 5 + 2 channels',
    inputs: [
      [1, 2, 3, 3],
      [1, 2, 3, 5],
      [1, 2, 3, 2],
    ],
    output: [1, 2, 3, 10],
    fill: 'smooth',
    build: () => concatOps([3, 5, 2]),
    tfOp: (xs) => tf.concat(xs, -1),
    kernels: 1,
  },
];

interface Reference {
  xs: Float32Array[];
  dy: Float32Array;
  y: ArrayLike<number>;
  dxs: ArrayLike<number>[];
}

const references = new Map<string, Reference>();

beforeAll(async () => {
  await useNodeBackend('cpu');
  CASES.forEach((c, n) => {
    const xs = c.inputs.map((shape, i) => values(size(shape), c.fill, 1000 * n + i + 1));
    const dy = values(size(c.output), 'smooth', 1000 * n + 999);
    if (c.loop) {
      const { y, dx } = c.loop(xs[0]!, dy);
      references.set(c.name, { xs, dy, y, dxs: [dx] });
      return;
    }
    const [y, ...dxs] = tf.tidy(() => {
      const ts = xs.map((x, i) => tf.tensor(x, c.inputs[i]));
      const seed = tf.tensor(dy, c.output);
      const grads = tf.grads((...t: tf.Tensor[]) => tf.sum(tf.mul(c.tfOp!(t), seed)))(ts);
      return [c.tfOp!(ts), ...grads].map((t) => t.dataSync() as Float32Array);
    });
    references.set(c.name, { xs, dy, y: y!, dxs });
  });
});

/** What the report needs: the largest errors per case and backend. */
const errors: { backend: string; name: string; forward: number; backward: number; kernels: number }[] = [];

afterAll(() => {
  console.table(errors.map((e) => ({ ...e, forward: e.forward.toExponential(2), backward: e.backward.toExponential(2) })));
});

const maxAbs = (a: ArrayLike<number>): number => Array.from(a).reduce((m, v) => Math.max(m, Math.abs(v)), 0);

/** The step's forward and backward for the case's inputs, read back. */
function runStep(c: Case, ops: StepOps, ref: Reference): { y: Float32Array; dxs: Float32Array[] } {
  return tf.tidy(() => {
    const xs = ref.xs.map((x, i) => tf.tensor(x, c.inputs[i]));
    const y = ops.forward(xs);
    const dxs = ops.backward(tf.tensor(ref.dy, c.output), y, xs);
    dxs.forEach((dx, i) => expect(dx.shape).toEqual(c.inputs[i]));
    expect(y.shape).toEqual(c.output);
    return { y: y.dataSync() as Float32Array, dxs: dxs.map((dx) => dx.dataSync() as Float32Array) };
  });
}

describe.each<NodeBackend>(['cpu', 'wasm'])('on %s', (backend) => {
  beforeAll(async () => {
    await useNodeBackend(backend);
  });

  test.each(CASES.map((c) => [c.name, c] as const))('%s matches its reference', async (_name, c) => {
    const ref = references.get(c.name)!;
    const weights = new WeightStore();
    const ops = c.build(weights);
    const { y, dxs } = runStep(c, ops, ref);
    const forward = maxAbsDiff(y, ref.y);
    const backward = Math.max(...dxs.map((dx, i) => maxAbsDiff(dx, ref.dxs[i]!)));
    expect(forward / maxAbs(ref.y)).toBeLessThan(1e-4);
    dxs.forEach((dx, i) => expect(maxAbsDiff(dx, ref.dxs[i]!) / maxAbs(ref.dxs[i]!)).toBeLessThan(1e-4));

    // Kernels per frame: the backward alone (its constants are already kept).
    const { kernels: dispatched } = await tf.profile(() => {
      tf.tidy(() => {
        const xs = ref.xs.map((x, i) => tf.tensor(x, c.inputs[i]));
        const out = tf.tensor(ref.y instanceof Float32Array ? ref.y : Float32Array.from(ref.y), c.output);
        const seed = tf.tensor(ref.dy, c.output);
        ops.backward(seed, out, xs);
      });
    });
    // Tensor creation above runs no kernel; reshapes share their data; a fused op's custom
    // gradient wrapper (`fusedConv2d__op`) is a scope around its kernel, not one.
    const kernels = dispatched.map((k) => k.name).filter((k) => k !== 'Reshape' && !k.endsWith('__op'));
    expect(kernels, kernels.join(', ')).toHaveLength(c.kernels);
    errors.push({ backend, name: c.name, forward, backward, kernels: kernels.length });
    weights.dispose();
  });

  test('nothing leaks: forward and backward leave only the kept constants', () => {
    for (const c of CASES) {
      const ref = references.get(c.name)!;
      const start = tf.memory().numTensors;
      const weights = new WeightStore();
      const ops = c.build(weights);
      runStep(c, ops, ref);
      const kept = tf.memory().numTensors;
      runStep(c, ops, ref);
      expect(tf.memory().numTensors, c.name).toBe(kept);
      weights.dispose();
      expect(tf.memory().numTensors, c.name).toBe(start);
    }
  });
});

describe('the loop references', () => {
  // Central differences of the loop forward passes (float64) against their backward passes, on
  // inputs without ties, where max pooling is differentiable.
  const geometries: [string, LoopGeometry, 'max' | 'caffe' | 'tf'][] = [
    ['max, Caffe ceil 13 × 14', { h: 13, w: 14, c: 2, oh: 6, ow: 7, attrs: pool(3, 2, [0, 0, 0, 1]) }, 'max'],
    ['avg, Caffe pad 1, 7 × 8', { h: 7, w: 8, c: 2, oh: 4, ow: 5, attrs: pool(3, 2, [1, 1, 1, 2]) }, 'caffe'],
    ['avg, Caffe 2×2/2 pad 1, 5', { h: 5, w: 5, c: 2, oh: 3, ow: 3, attrs: pool(2, 2, [1, 0, 1, 0]) }, 'caffe'],
    ['avg, TF same 3×3/2, 8', { h: 8, w: 8, c: 2, oh: 4, ow: 4, attrs: pool(3, 2, [0, 1, 0, 1]) }, 'tf'],
  ];
  test.each(geometries)('%s agrees with central differences', (_name, g, kind) => {
    const x = Float64Array.from(values(g.h * g.w * g.c, 'smooth', 7));
    const dy = Float64Array.from(values(g.oh * g.ow * g.c, 'smooth', 8));
    const run = (v: ArrayLike<number>) => (kind === 'max' ? maxPoolLoop(g, v, dy) : avgPoolLoop(g, kind, v, dy));
    const loss = (v: Float64Array): number => run(v).y.reduce((s, yi, i) => s + yi * dy[i]!, 0);
    const { dx } = run(x);
    const eps = 1e-6;
    for (let i = 0; i < x.length; i += 7) {
      const plus = Float64Array.from(x);
      const minus = Float64Array.from(x);
      plus[i] += eps;
      minus[i] -= eps;
      expect(Math.abs((loss(plus) - loss(minus)) / (2 * eps) - dx[i]!)).toBeLessThan(1e-6);
    }
  });

  test('Caffe sizes: 3×3/2 of 13 → 6, of 14 → 7, of 112 → 56 with pads [0, 1]', () => {
    expect(caffe13).toEqual({ out: 6, pads: [0, 0] });
    expect(caffe14).toEqual({ out: 7, pads: [0, 1] });
    expect(caffe112).toEqual({ out: 56, pads: [0, 1] });
    expect(caffeAvg7).toEqual({ out: 4, pads: [1, 1] });
    expect(caffeAvg8).toEqual({ out: 5, pads: [1, 2] });
    expect(caffeAvg5).toEqual({ out: 3, pads: [1, 0] });
  });
});

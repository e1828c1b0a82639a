import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, test } from 'vitest';
import type { Padding4, PoolAttrs } from '../../src/explain/network/graph.js';
import { lrnOps } from '../../src/explain/network/lrn-ops.js';
import { avgPoolOps, globalAvgPoolOps, maxPoolOps } from '../../src/explain/network/pooling-ops.js';
import { concatOps, softmaxOps } from '../../src/explain/network/softmax-ops.js';
import type { StepOps } from '../../src/explain/network/step.js';
import { WeightStore } from '../../src/explain/network/weights.js';
import { type NodeBackend, useNodeBackend } from '../../src/node/backend.js';
import { maxAbsDiff } from '../helpers/stats.js';
import { mulberry32 } from '../../src/explain/random.js';

// The pooling, LRN, softmax and concat steps' own forward and backward passes (forward ops only)
// against independent references: tf.grad of the matching tf op, computed on the cpu backend
// (WASM's MaxPoolGrad drops gradient where windows tie), and loops written from Caffe's pooling code
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
  loop?: (x: ArrayLike<number>, dy: ArrayLike<number>) => { y: Float64Array; dx: Float64Array };
  /** Kernels the backward dispatches, reshapes (which share their data) not counted. */
  kernels: number;
  /** Max pooling's windows, to check that its input ties where it matters. */
  windows?: LoopGeometry;
}

const size = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

function values(n: number, fill: Fill, seed: number): Float32Array {
  const next = mulberry32(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const u = next();
    // 'relu': ~80 % zeros, as deep post-ReLU maps, so windows tie at 0; 'ties': also few distinct positive values.
    if (fill === 'relu') out[i] = Math.max(0, u * 5 - 4);
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

/**
 * Pooling as Caffe's pooling_layer.cpp computes it. Every window is clipped to the input. 'max':
 * the first strict maximum (row-major) takes the gradient; `tied` counts windows whose maximum
 * occurs more than once, where that rule decides. 'caffe' average: hstart = ph·s − pad, hend =
 * min(hstart + k, H + pad), pool_size = (hend − hstart)·(wend − wstart) before clipping (pad = the
 * top / left pad). 'tf' average: the divisor is the number of positions inside the input.
 */
function poolLoop(g: LoopGeometry, rule: 'max' | 'caffe' | 'tf', x: ArrayLike<number>, dy: ArrayLike<number>) {
  const { h, w, c, oh, ow } = g;
  const [kh, kw] = g.attrs.kernel;
  const [sh, sw] = g.attrs.strides;
  const [top, , left] = g.attrs.pads;
  const y = new Float64Array(oh * ow * c);
  const dx = new Float64Array(h * w * c);
  let tied = 0;
  for (let a = 0; a < oh; a++) {
    for (let b = 0; b < ow; b++) {
      const [hs, ws] = [a * sh - top, b * sw - left];
      const caffeSize = (Math.min(hs + kh, h + top) - hs) * (Math.min(ws + kw, w + left) - ws);
      const [r0, r1, q0, q1] = [Math.max(hs, 0), Math.min(hs + kh, h), Math.max(ws, 0), Math.min(ws + kw, w)];
      const divisor = rule === 'caffe' ? caffeSize : (r1 - r0) * (q1 - q0);
      for (let ch = 0; ch < c; ch++) {
        const o = (a * ow + b) * c + ch;
        const at: number[] = [];
        for (let r = r0; r < r1; r++) for (let q = q0; q < q1; q++) at.push((r * w + q) * c + ch);
        if (rule === 'max') {
          y[o] = Math.max(...at.map((i) => x[i]!));
          const maxima = at.filter((i) => x[i] === y[o]);
          dx[maxima[0]!] += dy[o]!;
          if (maxima.length > 1) tied++;
        } else {
          y[o] = at.reduce((sum, i) => sum + x[i]!, 0) / divisor;
          for (const i of at) dx[i] += dy[o]! / divisor;
        }
      }
    }
  }
  return { y, dx, tied };
}

/** Caffe's pooled size (ceil, then dropped if the last window would start in the padding) and its pads. */
function caffePool(size: number, k: number, s: number, pad: number): { out: number; pads: [number, number] } {
  let out = Math.ceil((size + 2 * pad - k) / s) + 1;
  if (pad > 0 && (out - 1) * s >= size + pad) out--;
  return { out, pads: [pad, (out - 1) * s + k - size - pad] };
}

/**
 * A max or average pooling case over an [h, w, c] input; the output size follows from the pads.
 * `reference`: the tf op with that padding ('valid', 'same'), or a loop ('loop' for max pooling,
 * 'tf' / 'caffe' for the average divisor rules).
 */
function poolCase(
  name: string,
  [h, w, c]: [number, number, number],
  attrs: PoolAttrs & { countPads?: Padding4 },
  fill: Fill,
  reference: 'valid' | 'same' | 'loop' | 'tf' | 'caffe',
  kernels: number,
): Case {
  const [kh, kw] = attrs.kernel as [number, number];
  const [sh, sw] = attrs.strides as [number, number];
  const [top, bottom, left, right] = attrs.pads;
  const oh = Math.floor((h + top + bottom - kh) / sh) + 1;
  const ow = Math.floor((w + left + right - kw) / sw) + 1;
  const g: LoopGeometry = { h, w, c, oh, ow, attrs };
  const [input, output] = [
    [1, h, w, c],
    [1, oh, ow, c],
  ];
  const { countPads } = attrs;
  const tfPool = countPads ? tf.avgPool : tf.maxPool;
  return {
    name,
    inputs: [input],
    output,
    fill,
    build: (weights) =>
      countPads
        ? avgPoolOps({ ...attrs, countPads }, input, output, weights, name)
        : maxPoolOps(attrs, input, output, weights, name),
    ...(reference === 'valid' || reference === 'same'
      ? { tfOp: ([x]) => tfPool(x as tf.Tensor4D, [kh, kw], [sh, sw], reference) }
      : { loop: (x, dy) => poolLoop(g, reference === 'loop' ? 'max' : reference, x, dy) }),
    ...(countPads ? {} : { windows: g }),
    kernels,
  };
}

/** k×k / s pooling with `pads`, and for average pooling the divisor's `countPads`. */
function pool(k: number, s: number, pads: Padding4, countPads?: Padding4): PoolAttrs & { countPads?: Padding4 } {
  return { kernel: [k, k], strides: [s, s], pads, ...(countPads ? { countPads } : {}) };
}

const caffe13 = caffePool(13, 3, 2, 0);
const caffe14 = caffePool(14, 3, 2, 0);
const caffe112 = caffePool(112, 3, 2, 0);
const caffeAvg7 = caffePool(7, 3, 2, 1);
const caffeAvg8 = caffePool(8, 3, 2, 1);
const caffeAvg5 = caffePool(5, 2, 2, 1);

const NO_PADS: Padding4 = [0, 0, 0, 0];
const ONE: Padding4 = [1, 1, 1, 1];
const BOTTOM_RIGHT: Padding4 = [0, 1, 0, 1];

const CASES: Case[] = [
  poolCase('max 3×3/2 valid, post-ReLU', [9, 9, 4], pool(3, 2, NO_PADS), 'relu', 'valid', 8),
  poolCase('max 3×3/2 same (pads [0,1,0,1]), post-ReLU', [8, 8, 3], pool(3, 2, BOTTOM_RIGHT), 'relu', 'same', 9),
  poolCase('max 3×3/1 same (pads 1), post-ReLU', [7, 7, 3], pool(3, 1, ONE), 'relu', 'same', 9),
  poolCase('max 2×2/2 valid, few values', [6, 6, 3], pool(2, 2, NO_PADS), 'ties', 'valid', 8),
  poolCase('max 1×1/2 valid', [5, 5, 3], pool(1, 2, NO_PADS), 'relu', 'valid', 3),
  poolCase(
    'max 3×3/2 Caffe 112 → 56 (pads [0,1,0,1]), post-ReLU',
    [112, 112, 2],
    pool(3, 2, [...caffe112.pads, ...caffe112.pads]),
    'relu',
    'same',
    9,
  ),
  poolCase(
    'max 3×3/2 Caffe ceil 13 → 6 rows, 14 → 7 columns, post-ReLU',
    [13, 14, 3],
    pool(3, 2, [...caffe13.pads, ...caffe14.pads]),
    'relu',
    'loop',
    9,
  ),
  poolCase('max 3×3/2 Caffe ceil 14 × 13, few values', [14, 13, 3], pool(3, 2, [0, 1, 0, 0]), 'ties', 'loop', 9),
  poolCase('avg 2×2/2 valid', [6, 6, 3], pool(2, 2, NO_PADS, NO_PADS), 'smooth', 'valid', 3),
  poolCase('avg 3×3/1 valid', [5, 5, 3], pool(3, 1, NO_PADS, NO_PADS), 'smooth', 'valid', 1),
  poolCase('avg 3×3/1 TF same', [7, 7, 3], pool(3, 1, ONE, NO_PADS), 'smooth', 'tf', 2),
  poolCase('avg 3×3/2 TF same (pads [0,1,0,1])', [8, 8, 3], pool(3, 2, BOTTOM_RIGHT, NO_PADS), 'smooth', 'tf', 4),
  poolCase(
    'avg 3×3/2 Caffe pad 1, 7 × 8 (round-up column)',
    [7, 8, 3],
    pool(3, 2, [...caffeAvg7.pads, ...caffeAvg8.pads], ONE),
    'smooth',
    'caffe',
    4,
  ),
  poolCase('avg 3×3/1 Caffe pad 1', [5, 5, 3], pool(3, 1, ONE, ONE), 'smooth', 'caffe', 1),
  poolCase(
    'avg 2×2/2 Caffe pad 1, 5 (last window dropped)',
    [5, 5, 3],
    pool(2, 2, [...caffeAvg5.pads, ...caffeAvg5.pads], ONE),
    'smooth',
    'caffe',
    3,
  ),
  ...[false, true].map((keepDims): Case => ({
    name: `global avg, keepDims ${keepDims}`,
    inputs: [[1, 4, 5, 3]],
    output: keepDims ? [1, 1, 1, 3] : [1, 3],
    fill: 'smooth',
    build: (weights) => globalAvgPoolOps(keepDims, [1, 4, 5, 3], weights, 'gap'),
    tfOp: ([x]) => tf.mean(x!, [1, 2], keepDims),
    kernels: 1,
  })),
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
    tfOp: ([x]) =>
      tf.localResponseNormalization(x as tf.Tensor4D, attrs.depthRadius, attrs.bias, attrs.alpha, attrs.beta),
    kernels: 9,
  })),
  ...[
    [1, 10],
    [1, 1, 1, 6],
  ].map((shape): Case => ({
    name: `softmax [${shape.join(', ')}]`,
    inputs: [shape],
    output: shape,
    fill: 'smooth',
    build: () => softmaxOps(),
    tfOp: ([x]) => tf.softmax(x!),
    kernels: 4,
  })),
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

type Reference = { xs: Float32Array[]; dy: Float32Array; y: ArrayLike<number>; dxs: ArrayLike<number>[] };

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

const maxAbs = (a: ArrayLike<number>): number => Array.from(a).reduce((m, v) => Math.max(m, Math.abs(v)), 0);

/** The step's forward and backward for the case's inputs, read back (asynchronously: WebGPU reads no other way). */
async function runStep(c: Case, ops: StepOps, ref: Reference): Promise<{ y: Float32Array; dxs: Float32Array[] }> {
  const outputs = tf.tidy(() => {
    const xs = ref.xs.map((x, i) => tf.tensor(x, c.inputs[i]));
    const y = ops.forward(xs);
    return [y, ...ops.backward(tf.tensor(ref.dy, c.output), y, xs)];
  });
  expect(outputs.map((t) => t.shape)).toEqual([c.output, ...c.inputs]);
  const [y, ...dxs] = await Promise.all(outputs.map(async (t) => (await t.data()) as Float32Array));
  tf.dispose(outputs);
  return { y: y!, dxs };
}

describe.each<NodeBackend>(['cpu', 'wasm'])('on %s', (backend) => {
  beforeAll(async () => {
    await useNodeBackend(backend);
  });

  test.each(CASES.map((c) => [c.name, c] as const))('%s matches its reference', async (_name, c) => {
    const ref = references.get(c.name)!;
    const weights = new WeightStore();
    const ops = c.build(weights);
    const { y, dxs } = await runStep(c, ops, ref);
    expect(maxAbsDiff(y, ref.y) / maxAbs(ref.y)).toBeLessThan(1e-4);
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
    weights.dispose();
  });

  test('nothing leaks: forward and backward leave only the kept constants', async () => {
    for (const c of CASES) {
      const ref = references.get(c.name)!;
      const start = tf.memory().numTensors;
      const weights = new WeightStore();
      const ops = c.build(weights);
      await runStep(c, ops, ref);
      const kept = tf.memory().numTensors;
      await runStep(c, ops, ref);
      expect(tf.memory().numTensors, c.name).toBe(kept);
      weights.dispose();
      expect(tf.memory().numTensors, c.name).toBe(start);
    }
  });
});

describe('the loop references', () => {
  beforeAll(async () => {
    await useNodeBackend('cpu');
  });

  test.each(CASES.filter((c) => c.windows && c.kernels > 3).map((c) => [c.name, c] as const))(
    'the input of %s ties in some windows',
    (_name, c) => {
      const g = c.windows!;
      expect(
        poolLoop(g, 'max', references.get(c.name)!.xs[0]!, new Float32Array(g.oh * g.ow * g.c)).tied,
      ).toBeGreaterThanOrEqual(Math.ceil((g.oh * g.ow * g.c) / 20));
    },
  );

  test("the TF rule's forward is tf.avgPool 'same'; tfjs's own gradient of that is not (it divides by k·k)", () => {
    const g: LoopGeometry = { h: 7, w: 7, c: 2, oh: 7, ow: 7, attrs: pool(3, 1, ONE) };
    const x = values(7 * 7 * 2, 'smooth', 5);
    const dy = values(7 * 7 * 2, 'smooth', 6);
    const loop = poolLoop(g, 'tf', x, dy);
    const [y, dx] = tf.tidy(() => {
      const seed = tf.tensor4d(dy, [1, 7, 7, 2]);
      const f = (t: tf.Tensor): tf.Tensor => tf.avgPool(t as tf.Tensor4D, 3, 1, 'same');
      const xt = tf.tensor4d(x, [1, 7, 7, 2]);
      return [f(xt), tf.grad((t) => tf.sum(tf.mul(f(t), seed)))(xt)].map((t) => t.dataSync() as Float32Array);
    });
    expect(maxAbsDiff(y!, loop.y)).toBeLessThan(1e-5);
    expect(maxAbsDiff(dx!, loop.dx)).toBeGreaterThan(1e-2);
  });

  // Central differences of each loop's forward pass (float64) against its backward pass, on
  // inputs without ties, where max pooling is differentiable.
  test.each(CASES.filter((c) => c.loop).map((c) => [c.name, c] as const))(
    '%s: the loop agrees with central differences',
    (_name, c) => {
      const x = Float64Array.from(values(size(c.inputs[0]!), 'smooth', 7));
      const dy = values(size(c.output), 'smooth', 8);
      const loss = (v: Float64Array): number => c.loop!(v, dy).y.reduce((s, yi, i) => s + yi * dy[i]!, 0);
      const { dx } = c.loop!(x, dy);
      const eps = 1e-6;
      for (let i = 0; i < x.length; i += 7) {
        const plus = Float64Array.from(x);
        const minus = Float64Array.from(x);
        plus[i] += eps;
        minus[i] -= eps;
        expect(Math.abs((loss(plus) - loss(minus)) / (2 * eps) - dx[i]!)).toBeLessThan(1e-6);
      }
    },
  );

  test('Caffe sizes: 3×3/2 of 13 → 6, of 14 → 7, of 112 → 56 with pads [0, 1]; pad 1 of 7, 8; 2×2/2 pad 1 of 5', () => {
    const sizes = [caffe13, caffe14, caffe112, caffeAvg7, caffeAvg8, caffeAvg5].map(
      (p) => `${p.out} [${p.pads.join()}]`,
    );
    expect(sizes).toEqual(['6 [0,0]', '7 [0,1]', '56 [0,1]', '4 [1,1]', '5 [1,2]', '3 [1,0]']);
  });
});

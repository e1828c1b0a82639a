/**
 * Pooling steps (max, average with TensorFlow's or Caffe's divisor, global average), forward and
 * backward. As everywhere in the engine, each backward is built from forward ops only (gradient
 * kernels are slow or missing on some backends, and WASM's MaxPoolGrad drops gradient where
 * windows tie) and is taken with respect to the activations only; tests/unit/pooling-ops.test.ts
 * checks each against tf.grad and against loops written from Caffe's rules.
 *
 * The per-window gradient goes back onto the input through one transposed convolution with a
 * constant filter, run with the channels as its batch ([C, H, W, 1]): that is "dilate by the
 * stride, shift to each kernel offset, sum over the offsets, crop the padding" in one kernel
 * instead of several per offset. The constant filters and grids are made once per layer and kept
 * in the WeightStore.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Padding4, PoolAttrs } from './graph.js';
import type { StepOps } from './step.js';
import type { WeightStore } from './weights.js';

/**
 * Max pooling's padding value: below any activation, and finite where −∞ would not be: WGSL lets
 * shaders assume no infinities, and the backward's tap extraction must add it to exact zeros.
 */
const LOWEST = -3e38;

type ExplicitPads = [[number, number], [number, number], [number, number], [number, number]];

/** A pooling layer's window layout, checked against its shapes. */
interface Geometry {
  h: number;
  w: number;
  c: number;
  oh: number;
  ow: number;
  kh: number;
  kw: number;
  strides: [number, number];
  pads: Padding4;
  /** Whether any side is padded. */
  padded: boolean;
  /** `pads` as tfjs's explicit padding of an NHWC tensor. */
  explicit: ExplicitPads;
}

function geometry(attrs: PoolAttrs, inputShape: readonly number[], outputShape: readonly number[]): Geometry {
  const [, h, w, c] = inputShape as [number, number, number, number];
  const [, oh, ow, oc] = outputShape as [number, number, number, number];
  const [kh, kw] = attrs.kernel;
  const [sh, sw] = attrs.strides;
  const [top, bottom, left, right] = attrs.pads;
  const fits = (size: number, out: number, k: number, s: number, before: number, after: number): boolean =>
    Math.floor((size + before + after - k) / s) + 1 === out &&
    // Every window holds at least one input position: the first does not start in the padding,
    // the last starts inside the input (what Caffe's round-up guarantees, and TF's 'same').
    before < k &&
    (out - 1) * s - before < size;
  if (
    inputShape.length !== 4 ||
    outputShape.length !== 4 ||
    c !== oc ||
    !fits(h, oh, kh, sh, top, bottom) ||
    !fits(w, ow, kw, sw, left, right)
  ) {
    throw new Error(
      `internal: a ${kh}×${kw}/${sh},${sw} pool padded [${attrs.pads.join(', ')}] does not map [${inputShape.join(', ')}] to [${outputShape.join(', ')}]`,
    );
  }
  return {
    h,
    w,
    c,
    oh,
    ow,
    kh,
    kw,
    strides: [sh, sw],
    pads: attrs.pads,
    padded: attrs.pads.some((p) => p > 0),
    explicit: [
      [0, 0],
      [top, bottom],
      [left, right],
      [0, 0],
    ],
  };
}

/**
 * dL/dx from per-window, per-tap gradients `g` (laid out [oh, ow, C, taps]): each window's tap t
 * goes back to the input position that tap read, contributions of overlapping windows summed and
 * padding dropped. `filter` [kh, kw, 1, taps] says which kernel offset each tap is (all ones with
 * taps = 1: every offset gets the window's value). Three kernels: transpose, the transposed
 * convolution with the channels as its batch, transpose back (reshapes share their data).
 */
function scatterWindows(g: tf.Tensor, filter: tf.Tensor, geo: Geometry): tf.Tensor {
  const { h, w, c, oh, ow } = geo;
  const taps = filter.shape[3]!;
  const channelMajor = tf.transpose(tf.reshape(g, [oh, ow, c, taps]), [2, 0, 1, 3]) as tf.Tensor4D;
  const dx = tf.conv2dTranspose(
    channelMajor,
    filter as tf.Tensor4D,
    [c, h, w, 1],
    geo.strides,
    geo.padded ? geo.explicit : 'valid',
  );
  return tf.reshape(tf.transpose(tf.reshape(dx, [c, h, w]), [1, 2, 0]), [1, h, w, c]);
}

/** Whether the geometry's pads are TensorFlow's 'same' padding: ⌈size / stride⌉ outputs, the odd pad after. */
function isSame(geo: Geometry): boolean {
  const axis = (size: number, out: number, k: number, s: number, before: number, after: number): boolean => {
    const total = Math.max((out - 1) * s + k - size, 0);
    return out === Math.ceil(size / s) && before === Math.floor(total / 2) && after === total - before;
  };
  const [top, bottom, left, right] = geo.pads;
  return (
    axis(geo.h, geo.oh, geo.kh, geo.strides[0], top, bottom) && axis(geo.w, geo.ow, geo.kw, geo.strides[1], left, right)
  );
}

/** [kh, kw, channels, kh·kw]: output tap t of every channel reads kernel offset t (row-major). */
function tapFilter(kh: number, kw: number, channels: number): tf.Tensor {
  const taps = kh * kw;
  const data = new Float32Array(taps * channels * taps);
  for (let t = 0; t < taps; t++) {
    // Offset t is filter row ⌊t / kw⌋, column t mod kw; its [channels, taps] block is one-hot in t.
    for (let ch = 0; ch < channels; ch++) data[t * channels * taps + ch * taps + t] = 1;
  }
  return tf.tensor4d(data, [kh, kw, channels, taps]);
}

/**
 * Max pooling over explicit windows (`pads` before laying them out, asymmetric where a format
 * rounds its output size up). The gradient goes to the first maximal position of each window in
 * row-major order, as tf.grad (cpu) and Caffe give it, even where a window has ties (post-ReLU
 * zeros).
 *
 * Kernels a frame: forward 2 (pad, maxPool; 1 unpadded). Backward 9 (8 unpadded): one depthwise
 * convolution with one-hot filters lays every window's taps side by side; padded taps get
 * LOWEST added; argMax picks the first maximum per window (first on ties on every backend: each
 * compares with a strict >, reducing lower indices first); oneHot, a cast and one multiply by dy
 * make the per-tap gradient; `scatterWindows` (3) puts it back. 1×1 windows: the scatter alone.
 * A slice, compare, first-mask update and shifted, dilated scatter per kernel offset would cost
 * ~8 kernels per offset (72 for 3×3).
 *
 * On a busy frame this is O(H·W·C·k²) work twice (tap extraction and scatter), like tf.grad's.
 *
 * `weights` keeps the one-hot filters (and the padding penalty) under `name`.
 */
export function maxPoolOps(
  attrs: PoolAttrs,
  inputShape: readonly number[],
  outputShape: readonly number[],
  weights: WeightStore,
  name: string,
): StepOps {
  const geo = geometry(attrs, inputShape, outputShape);
  const { c, oh, ow, kh, kw, strides } = geo;
  const taps = kh * kw;
  const constants = (): tf.Tensor[] =>
    weights.get(`${name}:max-pool`, () => {
      const kept = [tapFilter(kh, kw, c), tapFilter(kh, kw, 1)];
      if (geo.padded) kept.push(padPenalty(geo));
      return kept;
    });
  // Where the pads are TensorFlow's 'same' ones (Caffe's round-up often is), the pool pads by itself: one kernel, not two.
  const same = geo.padded && isSame(geo);
  return {
    forward: ([x]) =>
      same
        ? tf.maxPool(x as tf.Tensor4D, [kh, kw], strides, 'same')
        : tf.maxPool((geo.padded ? tf.pad(x!, geo.explicit, LOWEST) : x!) as tf.Tensor4D, [kh, kw], strides, 'valid'),
    backward: (dy, _y, [x]) => {
      const [select, scatter, penalty] = constants();
      if (taps === 1) return [scatterWindows(dy, scatter!, geo)];
      // [1, oh, ow, C·taps]: channel ch·taps + t is what tap t of the window saw. Exact: each
      // output is one input times 1 plus zeros, and padded taps read 0 before the penalty.
      const seen = tf.depthwiseConv2d(
        x as tf.Tensor4D,
        select as tf.Tensor4D,
        strides,
        geo.padded ? geo.explicit : 'valid',
      );
      let windows = tf.reshape(seen, [oh, ow, c, taps]);
      if (penalty) windows = tf.add(windows, penalty);
      const first = tf.argMax(tf.reshape(windows, [oh * ow * c, taps]), 1);
      // int32, then a cast: WASM's OneHot ignores its dtype and writes int32 bits into a float32 tensor.
      const g = tf.mul(tf.cast(tf.oneHot(first, taps), 'float32'), tf.reshape(dy, [oh * ow * c, 1]));
      return [scatterWindows(g, scatter!, geo)];
    },
  };
}

/** [oh, ow, 1, taps]: 0 where a window's tap reads the input, LOWEST where it reads padding. */
function padPenalty({ h, w, oh, ow, kh, kw, strides: [sh, sw], pads: [top, , left] }: Geometry): tf.Tensor {
  const taps = kh * kw;
  const data = new Float32Array(oh * ow * taps);
  for (let a = 0; a < oh; a++) {
    for (let b = 0; b < ow; b++) {
      for (let t = 0; t < taps; t++) {
        const row = a * sh - top + Math.floor(t / kw);
        const col = b * sw - left + (t % kw);
        if (row < 0 || row >= h || col < 0 || col >= w) data[(a * ow + b) * taps + t] = LOWEST;
      }
    }
  }
  return tf.tensor4d(data, [oh, ow, 1, taps]);
}

/**
 * Each window's divisor: how many of its positions lie inside the input grown by `countPads`
 * ([top, bottom, left, right]). TensorFlow counts no padding (0s); Caffe counts its symmetric
 * `pad` but not the rows its round-up adds (hend = min(hstart + k, H + pad), hstart unclipped).
 */
function poolDivisors(geo: Geometry, countPads: Padding4): Float32Array {
  const { h, w, oh, ow, kh, kw } = geo;
  const [sh, sw] = geo.strides;
  const [top, , left] = geo.pads;
  const [cTop, cBottom, cLeft, cRight] = countPads;
  const span = (start: number, k: number, before: number, end: number): number =>
    Math.min(start + k, end) - Math.max(start, -before);
  const out = new Float32Array(oh * ow);
  for (let a = 0; a < oh; a++) {
    const rows = span(a * sh - top, kh, cTop, h + cBottom);
    for (let b = 0; b < ow; b++) out[a * ow + b] = rows * span(b * sw - left, kw, cLeft, w + cRight);
  }
  return out;
}

/**
 * Average pooling over explicit windows: the zero-padded input's window sums (avgPool 'valid' is
 * the sum / k·k) divided by `poolDivisors` (a kept [1, oh, ow, 1] grid of k·k / divisor; no
 * multiply where every divisor is k·k).
 *
 * Kernels a frame: forward 1–3 (pad, avgPool, the divisor multiply). Backward: dy / divisor (1,
 * none where uniform: 1/k·k sits in the filter) spread over each window: stride 1, one depthwise
 * convolution with a ones filter, padded to undo the crop (1–2 in all); strided, `scatterWindows`
 * (3–4 in all).
 */
export function avgPoolOps(
  attrs: PoolAttrs & { countPads: Padding4 },
  inputShape: readonly number[],
  outputShape: readonly number[],
  weights: WeightStore,
  name: string,
): StepOps {
  const geo = geometry(attrs, inputShape, outputShape);
  const { c, oh, ow, kh, kw, strides, pads } = geo;
  const k2 = kh * kw;
  const divisors = poolDivisors(geo, attrs.countPads);
  const uniform = divisors.every((d) => d === k2);
  const grid = (f: (d: number) => number): tf.Tensor => tf.tensor4d(divisors.map(f), [1, oh, ow, 1]);
  const stride1 = strides[0] === 1 && strides[1] === 1;
  // Stride 1: every padded input position is under a window, so the gradient is a full
  // correlation of dy with the (symmetric) ones kernel, cropped; padding the conv by k − 1 − pad
  // does both at once (never negative: `geometry` has each pad below the kernel).
  const full: ExplicitPads = [
    [0, 0],
    [kh - 1 - pads[0], kh - 1 - pads[1]],
    [kw - 1 - pads[2], kw - 1 - pads[3]],
    [0, 0],
  ];
  const tap = uniform ? 1 / k2 : 1;
  return {
    forward: ([x]) => {
      const sums = tf.avgPool((geo.padded ? tf.pad(x!, geo.explicit) : x!) as tf.Tensor4D, [kh, kw], strides, 'valid');
      if (uniform) return sums;
      const [scale] = weights.get(`${name}:avg-pool-scale`, () => [grid((d) => k2 / d)]);
      return tf.mul(sums, scale!);
    },
    backward: (dy) => {
      const [filter] = weights.get(`${name}:avg-pool-spread`, () => [tf.fill([kh, kw, stride1 ? c : 1, 1], tap)]);
      let spread = dy;
      if (!uniform) {
        const [share] = weights.get(`${name}:avg-pool-share`, () => [grid((d) => 1 / d)]);
        spread = tf.mul(dy, share!);
      }
      if (stride1) return [tf.depthwiseConv2d(spread as tf.Tensor4D, filter as tf.Tensor4D, 1, full)];
      return [scatterWindows(spread, filter!, geo)];
    },
  };
}

/**
 * Mean over height and width: [1, C] (Keras), or [1, 1, 1, C] with `keepDims` (Caffe, ONNX).
 * Backward: spread evenly over the map, one broadcasting multiply by a kept 1/(h·w) grid (Tile
 * then Multiply cost two kernels, and Tile alone 2 ms a frame on WASM). Forward 1 kernel, backward 1.
 */
export function globalAvgPoolOps(
  keepDims: boolean,
  inputShape: readonly number[],
  weights: WeightStore,
  name: string,
): StepOps {
  const [, h, w, c] = inputShape as [number, number, number, number];
  return {
    forward: ([x]) => tf.mean(x!, [1, 2], keepDims),
    backward: (dy) => {
      const [spread] = weights.get(`${name}:spread`, () => [tf.fill([1, h, w, 1], 1 / (h * w))]);
      return [tf.mul(tf.reshape(dy, [1, 1, 1, c]), spread!)];
    },
  };
}

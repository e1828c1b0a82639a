/**
 * The engine's own forward and backward ops per layer kind. Each backward is built from forward ops
 * (gradient kernels are slow or missing on some backends) and is taken with respect to the
 * activations only; tests/unit/gradients.test.ts checks each against tf.grad.
 */
import * as tf from '@tensorflow/tfjs-core';
import { type Activation, activationBackward, applyActivation, isFusable } from './activations.js';
import { WhyCamError } from '../errors.js';
import type { ConvAttrs, ConvPadding } from './graph.js';
import type { StepBase, StepOps } from './step.js';
import type { WeightStore } from './weights.js';

export function identityForward(inputs: tf.Tensor[]): tf.Tensor {
  return tf.clone(inputs[0]!);
}

export function affineOps(scale: tf.Tensor, shift: tf.Tensor, act: Activation): StepOps {
  return {
    forward: ([x]) => applyActivation(tf.add(tf.mul(x!, scale), shift), act),
    backward: (dy, y) => [tf.mul(activationBackward(dy, y, act), scale)],
  };
}

/** tfjs' form of a padding: 'same' / 'valid', or explicit per-axis pairs. */
export function tfPadding(
  p: ConvPadding,
): 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]] {
  if (p === 'same' || p === 'valid') return p;
  return [
    [0, 0],
    [p[0], p[1]],
    [p[2], p[3]],
    [0, 0],
  ];
}

export function denseOps(base: StepBase, kernel: tf.Tensor, bias: tf.Tensor, act: Activation): StepOps {
  if (base.shape.length !== 2)
    throw new WhyCamError('unsupported-model', `Dense layer "${base.name}" is applied to a tensor of rank > 2.`);
  const fused = isFusable(act) ? act : undefined;
  return {
    forward: ([x]) => {
      const y = tf.fused.matMul({ a: x as tf.Tensor2D, b: kernel as tf.Tensor2D, bias, activation: fused ?? 'linear' });
      return fused ? y : applyActivation(y, act);
    },
    backward: (dy, y) => [tf.matMul(activationBackward(dy, y, act) as tf.Tensor2D, kernel as tf.Tensor2D, false, true)],
  };
}

export function convOps(
  base: StepBase,
  kernel: tf.Tensor,
  bias: tf.Tensor,
  act: Activation,
  g: ConvAttrs,
  inputShape: number[],
  weights: WeightStore,
): StepOps {
  const fused = isFusable(act) ? act : undefined;
  const unpadded = typeof g.padding === 'string' || g.padding.every((p) => p === 0);
  const pointwise = g.kernel[0] === 1 && g.kernel[1] === 1 && g.strides[0] === 1 && g.strides[1] === 1 && unpadded;
  const flippedPads = g.strides[0] === 1 && g.strides[1] === 1 ? stride1GradientPads(g) : undefined;
  return {
    forward: ([x]) => {
      const y = tf.fused.conv2d({
        x: x as tf.Tensor4D,
        filter: kernel as tf.Tensor4D,
        strides: g.strides as [number, number],
        pad: tfPadding(g.padding),
        dilations: g.dilations as [number, number],
        bias,
        activation: fused ?? 'linear',
      });
      return fused ? y : applyActivation(y, act);
    },
    // Undilated only (see `undilated`).
    backward: (dy, y) => {
      const dz = activationBackward(dy, y, act) as tf.Tensor4D;
      if (pointwise) {
        // A 1×1 conv is a matrix product over channels; its input gradient is the product with the transpose.
        const [transposed] = weights.get(`${base.name}:transposed`, () => [tf.transpose(kernel, [0, 1, 3, 2])]);
        return [tf.conv2d(dz, transposed as tf.Tensor4D, 1, 'valid')];
      }
      if (flippedPads) {
        // Stride 1: the input gradient is a plain convolution of dy with the kernel rotated by 180°
        // and its channels swapped — a forward kernel, several times faster on WASM than the
        // transposed convolution (GoogLeNet's 3×3 and 5×5 convolutions).
        const [flipped] = weights.get(`${base.name}:flipped`, () => [
          tf.transpose(tf.reverse(kernel, [0, 1]), [0, 1, 3, 2]),
        ]);
        return [tf.conv2d(dz, flipped as tf.Tensor4D, 1, flippedPads)];
      }
      return [
        tf.conv2dTranspose(
          dz,
          kernel as tf.Tensor4D,
          inputShape as [number, number, number, number],
          g.strides as [number, number],
          tfPadding(g.padding),
        ),
      ];
    },
  };
}

export function depthwiseOps(
  base: StepBase,
  kernel: tf.Tensor,
  bias: tf.Tensor,
  act: Activation,
  g: ConvAttrs,
  inputShape: number[],
  weights: WeightStore,
): StepOps {
  const fused = isFusable(act) ? act : undefined;
  const [kh, kw, channels, multiplier] = kernel.shape as [number, number, number, number];
  const [, inH, inW] = inputShape as [number, number, number, number];
  const [, outH, outW] = base.shape as [number, number, number, number];
  // The input gradient of a depthwise conv is a depthwise conv of the (stride-dilated, padded)
  // output gradient with the kernel rotated by 180°, one output channel at a time (undilated only).
  const padTop = padBefore(inH, outH, kh, g.strides[0], g.padding, 0);
  const padLeft = padBefore(inW, outW, kw, g.strides[1], g.padding, 2);
  return {
    forward: ([x]) => {
      // tfjs' fused depthwise conv takes no explicit padding: pad first (one kernel more).
      const explicit = typeof g.padding !== 'string';
      const y = tf.fused.depthwiseConv2d({
        x: explicit ? tf.pad(x as tf.Tensor4D, tfPadding(g.padding) as [number, number][]) : (x as tf.Tensor4D),
        filter: kernel as tf.Tensor4D,
        strides: g.strides as [number, number],
        pad: explicit ? 'valid' : (g.padding as 'same' | 'valid'),
        dilations: g.dilations as [number, number],
        bias,
        activation: fused ?? 'linear',
      });
      return fused ? y : applyActivation(y, act);
    },
    backward: (dy, y) => {
      const [rotated] = weights.get(`${base.name}:rotated`, () => [
        tf.reshape(tf.reverse(kernel, [0, 1]), [kh, kw, channels * multiplier, 1]),
      ]);
      let dz = activationBackward(dy, y, act) as tf.Tensor4D;
      dz = dilate(dz, g.strides[0], g.strides[1]);
      const rows: [number, number] = [kh - 1 - padTop, inH + padTop - dz.shape[1]];
      const cols: [number, number] = [kw - 1 - padLeft, inW + padLeft - dz.shape[2]];
      // Padding within the conv where none is negative (the usual case): one kernel fewer than a separate pad.
      const dx = [...rows, ...cols].every((p) => p >= 0)
        ? tf.depthwiseConv2d(dz, rotated as tf.Tensor4D, 1, [[0, 0], rows, cols, [0, 0]])
        : tf.depthwiseConv2d(padOrCrop(dz, rows, cols), rotated as tf.Tensor4D, 1, 'valid');
      return [multiplier === 1 ? dx : tf.sum(tf.reshape(dx, [1, inH, inW, channels, multiplier]), -1)];
    },
  };
}

/**
 * The padding of dy that makes the stride-1 input gradient a plain convolution: k − 1 − p on each
 * side; undefined where that is negative (a pad wider than the kernel), which the transposed
 * convolution handles instead.
 */
function stride1GradientPads(
  g: ConvAttrs,
): [[number, number], [number, number], [number, number], [number, number]] | undefined {
  const [kh, kw] = g.kernel;
  const [pt, pb, pl, pr] =
    g.padding === 'valid'
      ? [0, 0, 0, 0]
      : g.padding === 'same'
        ? [
            Math.floor((kh - 1) / 2),
            kh - 1 - Math.floor((kh - 1) / 2),
            Math.floor((kw - 1) / 2),
            kw - 1 - Math.floor((kw - 1) / 2),
          ]
        : g.padding;
  const pads: [number, number, number, number] = [kh - 1 - pt, kh - 1 - pb, kw - 1 - pl, kw - 1 - pr];
  if (pads.some((p) => p < 0)) return undefined;
  return [
    [0, 0],
    [pads[0], pads[1]],
    [pads[2], pads[3]],
    [0, 0],
  ];
}

function padBefore(size: number, out: number, k: number, stride: number, padding: ConvPadding, axis: 0 | 2): number {
  if (padding === 'valid') return 0;
  if (padding !== 'same') return padding[axis];
  return Math.floor(Math.max((out - 1) * stride + k - size, 0) / 2);
}

/** Inserts stride-1 zeros between rows and columns using only 4-D pads and reshapes. */
function dilate(x: tf.Tensor4D, sy: number, sx: number): tf.Tensor4D {
  const [, h, , c] = x.shape;
  let w = x.shape[2];
  if (sx > 1) {
    x = tf.reshape(
      tf.pad(tf.reshape(x, [1, h * w, 1, c]), [
        [0, 0],
        [0, 0],
        [0, sx - 1],
        [0, 0],
      ]),
      [1, h, w * sx, c],
    );
    w *= sx;
    x = tf.slice(x, [0, 0, 0, 0], [1, h, w - (sx - 1), c]);
    w -= sx - 1;
  }
  if (sy > 1) {
    x = tf.reshape(
      tf.pad(tf.reshape(x, [1, h, 1, w * c]), [
        [0, 0],
        [0, 0],
        [0, sy - 1],
        [0, 0],
      ]),
      [1, h * sy, w, c],
    );
    x = tf.slice(x, [0, 0, 0, 0], [1, h * sy - (sy - 1), w, c]);
  }
  return x;
}

/** Pads (positive) or crops (negative) the two spatial axes. */
function padOrCrop(x: tf.Tensor4D, [top, bottom]: [number, number], [left, right]: [number, number]): tf.Tensor4D {
  const padding: [number, number][] = [
    [0, 0],
    [Math.max(top, 0), Math.max(bottom, 0)],
    [Math.max(left, 0), Math.max(right, 0)],
    [0, 0],
  ];
  if (padding.some(([a, b]) => a > 0 || b > 0)) x = tf.pad(x, padding);
  if (top < 0 || bottom < 0 || left < 0 || right < 0) {
    const [, h, w, c] = x.shape;
    const t = Math.max(-top, 0);
    const l = Math.max(-left, 0);
    x = tf.slice(x, [0, t, l, 0], [1, h - t - Math.max(-bottom, 0), w - l - Math.max(-right, 0), c]);
  }
  return x;
}

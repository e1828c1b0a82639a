/**
 * Local response normalisation across channels, as tf.localResponseNormalization defines it:
 * d = bias + alpha · Σ_window x², y = x · d^(−beta), the window being the channels c − r … c + r
 * (r = depthRadius; Caffe's alpha / local_size and AlexNet's k are the importer's business).
 *
 * The backward is built from forward ops only, like every other (gradient kernels are slow or
 * missing on some backends): the window is symmetric, so
 *   dx = dy · d^(−β) − 2αβ · x · Σ_window(dy · y / d)        (y / d = x · d^(−β−1)).
 * A channel window sum is one convolution: the map reshaped to [1, H·W, C, 1] (channels as the
 * width) under a [1, 2r + 1, 1, 1] filter, 'same' padding giving the zero channels past either
 * end. That is H·W·C·(2r + 1) multiply-adds where a [1, 1, C, C] band matrix would cost H·W·C²,
 * in as few kernels, and shifted channel slices take 2r + 2.
 * tests/unit/pooling-ops.test.ts checks it against tf.grad.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { StepOps } from './step.js';
import type { WeightStore } from './weights.js';

export interface LrnAttrs {
  depthRadius: number;
  bias: number;
  alpha: number;
  beta: number;
}

/**
 * Kernels a frame: forward 1 (LRN). Backward 9: square, the window sum fused with alpha and
 * bias (d), pow, three multiplies and a divide, the second window sum (with −2αβ in its
 * filter), an add; the reshapes share their data.
 *
 * `weights` keeps the two window filters and the bias under `name`.
 */
export function lrnOps(attrs: LrnAttrs, weights: WeightStore, name: string): StepOps {
  const { depthRadius, bias, alpha, beta } = attrs;
  const width = 2 * depthRadius + 1;
  return {
    forward: ([x]) => tf.localResponseNormalization(x as tf.Tensor4D, depthRadius, bias, alpha, beta),
    backward: (dy, y, [x]) => {
      const [window, spread, offset] = weights.get(`${name}:lrn`, () => [
        tf.fill([1, width, 1, 1], alpha),
        tf.fill([1, width, 1, 1], -2 * alpha * beta),
        tf.tensor1d([bias]),
      ]);
      const [, h, w, c] = x!.shape as [number, number, number, number];
      const lanes = (t: tf.Tensor): tf.Tensor4D => tf.reshape(t, [1, h * w, c, 1]);
      const d = tf.fused.conv2d({
        x: lanes(tf.square(x!)),
        filter: window as tf.Tensor4D,
        strides: 1,
        pad: 'same',
        bias: offset!,
      });
      const direct = tf.mul(lanes(dy), tf.pow(d, -beta));
      const through = tf.conv2d(
        tf.div(tf.mul(lanes(dy), lanes(y)), d) as tf.Tensor4D,
        spread as tf.Tensor4D,
        1,
        'same',
      );
      return [tf.reshape(tf.add(direct, tf.mul(lanes(x!), through)), [1, h, w, c])];
    },
  };
}

/** Softmax and channel concatenation, forward and backward from forward ops only. */
import * as tf from '@tensorflow/tfjs-core';
import type { StepOps } from './step.js';

/**
 * Softmax over the last axis. Its Jacobian is diag(y) − y yᵀ, so dx = y · (dy − Σ dy · y), from
 * the output alone. Kernels: forward 1, backward 4 (multiply, sum, subtract, multiply).
 */
export function softmaxOps(): StepOps {
  return {
    forward: ([x]) => tf.softmax(x!),
    backward: (dy, y) => [tf.mul(y, tf.sub(dy, tf.sum(tf.mul(dy, y), -1, true)))],
  };
}

/**
 * Concatenation along the channel (last) axis of inputs with `channelCounts` channels each; the
 * gradient is dy cut back into those pieces. Kernels: forward 1, backward 1 (split).
 */
export function concatOps(channelCounts: readonly number[]): StepOps {
  return {
    forward: (xs) => tf.concat(xs, -1),
    backward: (dy) => tf.split(dy, [...channelCounts], -1),
  };
}

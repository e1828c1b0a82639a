import * as tf from '@tensorflow/tfjs-core';
import { relu6Backward } from '../runtime/kernels/index.js';

/** Activations the engine can run forward and differentiate from their output alone. */
export type Activation = 'linear' | 'relu' | 'relu6' | 'sigmoid' | 'tanh' | 'elu';

/** The subset tfjs can fuse into conv / matMul kernels on every backend. */
type FusedActivation = 'linear' | 'relu' | 'relu6' | 'sigmoid' | 'elu';

const KNOWN = new Set<string>(['linear', 'relu', 'relu6', 'sigmoid', 'tanh', 'elu']);
const FUSABLE = new Set<string>(['linear', 'relu', 'relu6', 'sigmoid', 'elu']);

export function isActivation(name: string): name is Activation {
  return KNOWN.has(name);
}

export function isFusable(act: Activation): act is FusedActivation {
  return FUSABLE.has(act);
}

export function applyActivation(x: tf.Tensor, act: Activation): tf.Tensor {
  switch (act) {
    case 'linear':
      return x;
    case 'relu':
      return tf.relu(x);
    case 'relu6':
      return tf.relu6(x);
    case 'sigmoid':
      return tf.sigmoid(x);
    case 'tanh':
      return tf.tanh(x);
    case 'elu':
      return tf.elu(x);
  }
}

/**
 * dL/dx from dL/dy and the activation's output y: every activation here has a derivative that
 * is a function of its output, so the backward pass needs no pre-activation tensors and no
 * gradient kernels (several are missing on WASM). ReLU6 (MobileNet's) is one kernel of WhyCam's own.
 */
export function activationBackward(dy: tf.Tensor, y: tf.Tensor, act: Activation): tf.Tensor {
  switch (act) {
    case 'linear':
      return dy;
    case 'relu':
      return tf.mul(dy, tf.step(y));
    case 'relu6':
      return relu6Backward(dy, y);
    case 'sigmoid':
      return tf.mul(dy, tf.mul(y, tf.sub(1, y)));
    case 'tanh':
      return tf.mul(dy, tf.sub(1, tf.square(y)));
    case 'elu':
      return tf.mul(dy, tf.where(tf.greater(y, 0), tf.onesLike(y), tf.add(y, 1)));
  }
}

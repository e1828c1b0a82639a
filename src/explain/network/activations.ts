import * as tf from '@tensorflow/tfjs-core';
import { relu6Backward } from '../runtime/kernels/index.js';

/**
 * Activations the engine runs and differentiates. All but `swish` have a derivative that is a
 * function of their output, so their backward pass needs no pre-activation tensor.
 */
export type Activation =
  | 'linear'
  | 'relu'
  | 'relu6'
  | 'leakyrelu'
  | 'sigmoid'
  | 'hardsigmoid'
  | 'tanh'
  | 'elu'
  | 'selu'
  | 'softplus'
  | 'swish'
  | 'hardswish';

export const ACTIVATIONS: readonly Activation[] = [
  'linear',
  'relu',
  'relu6',
  'leakyrelu',
  'sigmoid',
  'hardsigmoid',
  'tanh',
  'elu',
  'selu',
  'softplus',
  'swish',
  'hardswish',
];

/** The subset tfjs can fuse into conv / matMul kernels on every backend. */
type FusedActivation = 'linear' | 'relu' | 'relu6' | 'sigmoid' | 'elu';
const FUSABLE = new Set<string>(['linear', 'relu', 'relu6', 'sigmoid', 'elu']);

/** Keras' and other formats' spellings of the same functions. */
const ALIASES: Readonly<Record<string, Activation>> = {
  silu: 'swish',
  hard_sigmoid: 'hardsigmoid',
  hard_swish: 'hardswish',
};

/** The engine's name for an activation as a format spells it, if the engine has it. */
export function activationNamed(name: string): Activation | undefined {
  const known = ALIASES[name] ?? name;
  return (ACTIVATIONS as readonly string[]).includes(known) ? (known as Activation) : undefined;
}

export function isFusable(act: Activation): act is FusedActivation {
  return FUSABLE.has(act);
}

/**
 * Whether a conv / dense step may end in this activation: its backward then sees only the step's
 * output. Swish needs its input and LeakyReLU its slope, so they stay steps of their own.
 */
export function foldsIntoStep(act: Activation): boolean {
  return act !== 'swish' && act !== 'hardswish' && act !== 'leakyrelu';
}

// SELU's constants (Klambauer et al. 2017), as tf.selu uses them.
const SELU_SCALE = 1.0507009873554805;
const SELU_ALPHA = 1.6732632423543772;

/** `alpha`: LeakyReLU's slope, or HardSigmoid's (0.2 as in Keras); `beta`: HardSigmoid's offset. */
export function applyActivation(x: tf.Tensor, act: Activation, alpha = 0.2, beta = 0.5): tf.Tensor {
  switch (act) {
    case 'linear':
      return x;
    case 'relu':
      return tf.relu(x);
    case 'relu6':
      return tf.relu6(x);
    case 'leakyrelu':
      return tf.leakyRelu(x, alpha);
    case 'sigmoid':
      return tf.sigmoid(x);
    case 'hardsigmoid':
      return tf.clipByValue(tf.add(tf.mul(x, alpha), beta), 0, 1);
    case 'tanh':
      return tf.tanh(x);
    case 'elu':
      return tf.elu(x);
    case 'selu':
      return tf.selu(x);
    case 'softplus':
      return tf.softplus(x);
    case 'swish':
      return tf.mul(x, tf.sigmoid(x));
    case 'hardswish':
      // x · HardSigmoid(x) with ONNX's and PyTorch's constants (1/6, 0.5): x · ReLU6(x + 3) / 6.
      return tf.mul(x, tf.div(tf.relu6(tf.add(x, 3)), 6));
  }
}

/**
 * dL/dx from dL/dy, the activation's output y and (for swish only) its input x. The rest need
 * no gradient kernels (several are missing on WASM); ReLU6 (MobileNet's) is one kernel of WhyCam's own.
 */
export function activationBackward(
  dy: tf.Tensor,
  y: tf.Tensor,
  act: Activation,
  x?: tf.Tensor,
  alpha = 0.2,
): tf.Tensor {
  switch (act) {
    case 'linear':
      return dy;
    case 'relu':
      return tf.mul(dy, tf.step(y));
    case 'relu6':
      return relu6Backward(dy, y);
    case 'leakyrelu':
      // The slope is positive, so the output's sign is the input's.
      return tf.mul(dy, tf.where(tf.greater(y, 0), tf.onesLike(y), tf.fill(y.shape, alpha)));
    case 'sigmoid':
      return tf.mul(dy, tf.mul(y, tf.sub(1, y)));
    case 'hardsigmoid':
      return tf.mul(dy, tf.mul(tf.cast(tf.logicalAnd(tf.greater(y, 0), tf.less(y, 1)), 'float32'), alpha));
    case 'tanh':
      return tf.mul(dy, tf.sub(1, tf.square(y)));
    case 'elu':
      return tf.mul(dy, tf.where(tf.greater(y, 0), tf.onesLike(y), tf.add(y, 1)));
    case 'selu':
      return tf.mul(dy, tf.where(tf.greater(y, 0), tf.fill(y.shape, SELU_SCALE), tf.add(y, SELU_SCALE * SELU_ALPHA)));
    case 'softplus':
      // σ(x) = 1 − e^(−y)
      return tf.mul(dy, tf.sub(1, tf.exp(tf.neg(y))));
    case 'swish': {
      if (!x) throw new Error('internal: swish backward needs its input');
      const s = tf.sigmoid(x);
      return tf.mul(dy, tf.add(s, tf.mul(y, tf.sub(1, s))));
    }
    case 'hardswish': {
      if (!x) throw new Error('internal: hardswish backward needs its input');
      // 0 below −3, 1 above 3, (2x + 3) / 6 between.
      const inside = tf.cast(tf.logicalAnd(tf.greater(x, -3), tf.less(x, 3)), 'float32');
      return tf.mul(
        dy,
        tf.add(tf.mul(inside, tf.div(tf.add(tf.mul(x, 2), 3), 6)), tf.cast(tf.greaterEqual(x, 3), 'float32')),
      );
    }
  }
}

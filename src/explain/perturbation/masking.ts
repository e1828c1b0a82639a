import * as tf from '@tensorflow/tfjs-core';
import { batchProbabilities } from '../network/batch.js';
import type { Network } from '../network/network.js';

// What occlusion and LIME both do around their masks: fill hidden pixels with the picture's mean
// colour, read the target's probability, and turn the drops into a 0–1 map.

/** Per-channel mean of an [1, H, W, C] input. */
export async function meanColour(input: tf.Tensor4D): Promise<number[]> {
  const mean = tf.mean(input, [0, 1, 2]);
  try {
    return Array.from(await mean.data());
  } finally {
    mean.dispose();
  }
}

/** The target's probability for one input. */
export async function probabilitiesOf(network: Network, input: tf.Tensor4D, classIndex: number): Promise<number> {
  const p = tf.tidy(() => tf.slice(batchProbabilities(network, input), [0, classIndex], [1, 1]));
  try {
    return (await p.data())[0]!;
  } finally {
    p.dispose();
  }
}

/** ReLU, then min–max to [0, 1] (as the gradient methods' maps); a flat map becomes zeros. */
export function scaleToUnit(values: ArrayLike<number>): Float32Array {
  const out = Float32Array.from(values, (v) => Math.max(v, 0));
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of out) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const span = hi - lo;
  for (let i = 0; i < out.length; i++) out[i] = span > 0 ? (out[i]! - lo) / span : 0;
  return out;
}

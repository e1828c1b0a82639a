import * as tf from '@tensorflow/tfjs-core';
import { gradCamPlusPlusWeights, layerCamMap } from '../runtime/kernels/index.js';

/** Σ_k A[..., k] · w[k] over the channels of a [1, h, w, C] map, as one matrix product. */
function weightedChannelSum(activations: tf.Tensor4D, weights: tf.Tensor): tf.Tensor2D {
  const [, h, w, c] = activations.shape;
  return tf.reshape(tf.matMul(tf.reshape(activations, [h * w, c]), tf.reshape(weights, [c, 1])), [h, w]);
}

/** CAM (Zhou et al. 2016): the target class's classifier weights applied to the last conv map. */
export function cam(activations: tf.Tensor4D, classWeights: tf.Tensor): tf.Tensor2D {
  return weightedChannelSum(activations, classWeights);
}

/** Grad-CAM (Selvaraju et al. 2017): channels weighted by their spatially averaged gradient. */
export function gradCam(activations: tf.Tensor4D, gradients: tf.Tensor4D): tf.Tensor2D {
  return weightedChannelSum(activations, tf.mean(gradients, [0, 1, 2]));
}

/**
 * Grad-CAM++ (Chattopadhyay et al. 2018), in its usual closed form for an exponential of the score:
 * α = g² / (2g² + ΣA·g³), channel weight = Σ α·relu(g).
 */
export function gradCamPlusPlus(activations: tf.Tensor4D, gradients: tf.Tensor4D): tf.Tensor2D {
  // The weights in one kernel of WhyCam's own (kernels/index.ts; the ops it replaces: tests/unit/kernels.test.ts).
  return weightedChannelSum(activations, gradCamPlusPlusWeights(gradients, activations));
}

/** LayerCAM (Jiang et al. 2021): every position weighted by its own positive gradient. */
export function layerCam(activations: tf.Tensor4D, gradients: tf.Tensor4D): tf.Tensor2D {
  // Σ_k relu(g) · A over channels, in one kernel of WhyCam's own (kernels/index.ts).
  return layerCamMap(gradients, activations);
}

/**
 * HiResCAM (Draelos & Carin 2020): ReLU(Σ_k g · A) per position, the element-wise product of
 * gradient and activation summed over channels (no averaging of g, as Grad-CAM does, and no ReLU
 * on g, as LayerCAM does). The raw map is the signed sum; its ReLU is normalizeMap's, as for Grad-CAM.
 */
export function hiResCam(activations: tf.Tensor4D, gradients: tf.Tensor4D): tf.Tensor2D {
  // LayerCAM's channel-sum kernel without its ReLU on g (kernels/index.ts).
  return layerCamMap(gradients, activations, false);
}

/** ReLU, then min–max to [0, 1]; a flat map becomes all zeros. */
export function normalizeMap(map: tf.Tensor2D): tf.Tensor2D {
  const positive = tf.relu(map);
  const low = tf.min(positive);
  return tf.divNoNan(tf.sub(positive, low), tf.sub(tf.max(positive), low));
}

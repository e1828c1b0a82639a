/** Inference BatchNorm folded into the conv / dense layer before it (or kept as an affine step): y = x * scale + shift. */
import * as tf from '@tensorflow/tfjs-core';
import type { GraphNode } from './graph.js';

/** [kernel, bias] of a conv / dense node with the BatchNorm node after it (if any) folded in. */
export function foldedWeights(layer: GraphNode, bn: GraphNode | undefined): tf.Tensor[] {
  const kernel = layer.weights['kernel']!;
  const outChannels = layer.shape[layer.shape.length - 1]!;
  const bias = layer.weights['bias'] ?? tf.zeros([outChannels]);
  if (!bn) return [kernel, bias];
  const [scale, shift] = batchNormAffine(bn);
  const kernelScale =
    layer.op.type === 'depthwiseConv2d' ? tf.reshape(scale!, [1, 1, kernel.shape[2]!, kernel.shape[3]!]) : scale!;
  return [tf.mul(kernel, kernelScale), tf.add(tf.mul(bias, scale!), shift!)];
}

/** Inference BatchNorm as y = x * scale + shift. */
export function batchNormAffine(bn: GraphNode): tf.Tensor[] {
  if (bn.op.type !== 'batchNorm') throw new Error(`internal: ${bn.name} is not a batch norm`);
  const { gamma, beta, mean, variance } = bn.weights;
  const invStd = tf.rsqrt(tf.add(variance!, bn.op.epsilon));
  const scale = gamma ? tf.mul(gamma, invStd) : invStd;
  const shift = tf.sub(beta ?? tf.zerosLike(mean!), tf.mul(mean!, scale));
  return [scale, shift];
}

/** Inference BatchNorm folded into the conv / dense layer before it (or kept as an affine step): y = x * scale + shift. */
import * as tf from '@tensorflow/tfjs-core';
import type { GraphNode } from './graph.js';

/** [kernel, bias] of a conv / dense layer with the BatchNorm after it (if any) folded in. */
export function foldedWeights(layer: GraphNode, bn: GraphNode | undefined): tf.Tensor[] {
  const w = layer.layer.getWeights();
  const kernel = w[0]!;
  const outChannels = layer.shape[layer.shape.length - 1]!;
  const bias = layer.config['useBias'] ? w[1]! : tf.zeros([outChannels]);
  if (!bn) return [kernel, bias];
  const [scale, shift] = batchNormAffine(bn);
  const kernelScale =
    layer.className === 'DepthwiseConv2D' ? tf.reshape(scale!, [1, 1, kernel.shape[2]!, kernel.shape[3]!]) : scale!;
  return [tf.mul(kernel, kernelScale), tf.add(tf.mul(bias, scale!), shift!)];
}

/** Inference BatchNorm as y = x * scale + shift. */
export function batchNormAffine(bn: GraphNode): tf.Tensor[] {
  const c = bn.config;
  const w = bn.layer.getWeights();
  let i = 0;
  const gamma = c['scale'] !== false ? w[i++]! : undefined;
  const beta = c['center'] !== false ? w[i++]! : undefined;
  const mean = w[i]!;
  const variance = w[i + 1]!;
  const epsilon = (c['epsilon'] as number | undefined) ?? 1e-3;
  const invStd = tf.rsqrt(tf.add(variance, epsilon));
  const scale = gamma ? tf.mul(gamma, invStd) : invStd;
  const shift = tf.sub(beta ?? tf.zerosLike(mean), tf.mul(mean, scale));
  return [scale, shift];
}

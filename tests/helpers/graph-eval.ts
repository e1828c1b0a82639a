/**
 * The neutral graph run op by op as graph.ts documents each op, in plain tf ops: no planner, no
 * steps, no fusion. It checks what an importer built, apart from how the engine runs it.
 */
import * as tf from '@tensorflow/tfjs-core';
import { expect } from 'vitest';
import type { GraphNode, ModelGraph, Padding4 } from '../../src/explain/network/graph.js';
import type { CaffeReference } from './caffe-reference.js';

function activate(y: tf.Tensor, activation: string, alpha = 0): tf.Tensor {
  if (activation === 'linear') return y;
  if (activation === 'relu') return tf.relu(y);
  if (activation === 'leakyrelu') return tf.leakyRelu(y, alpha);
  if (activation === 'sigmoid') return tf.sigmoid(y);
  if (activation === 'tanh') return tf.tanh(y);
  if (activation === 'elu') return tf.elu(y);
  throw new Error(`evaluator: no activation ${activation}`);
}

const padding4 = (p: Padding4): tf.backend_util.ExplicitPadding => [
  [0, 0],
  [p[0], p[1]],
  [p[2], p[3]],
  [0, 0],
];

/** How many of each window's positions lie in [lo, hi) (the input grown by avgPool's countPads). */
function counted(n: number, k: number, s: number, padBefore: number, lo: number, hi: number): number[] {
  return Array.from({ length: n }, (_, i) => Math.min(i * s - padBefore + k, hi) - Math.max(i * s - padBefore, lo));
}

function evalNode(node: GraphNode, xs: tf.Tensor[], input: tf.Tensor): tf.Tensor {
  const { op, weights } = node;
  const x = xs[0]! as tf.Tensor4D;
  const withBias = (y: tf.Tensor): tf.Tensor => (weights['bias'] ? tf.add(y, weights['bias']) : y);
  switch (op.type) {
    case 'input':
      return input;
    case 'conv2d':
    case 'depthwiseConv2d': {
      const pad = typeof op.padding === 'string' ? op.padding : padding4(op.padding);
      const conv = op.type === 'conv2d' ? tf.conv2d : tf.depthwiseConv2d;
      const y = conv(x, weights['kernel'] as tf.Tensor4D, [...op.strides], pad, 'NHWC', [...op.dilations]);
      return activate(withBias(y), op.activation);
    }
    case 'dense':
      return activate(withBias(tf.matMul(xs[0]! as tf.Tensor2D, weights['kernel'] as tf.Tensor2D)), op.activation);
    case 'activation':
      return activate(x, op.activation, op.alpha);
    case 'maxPool':
      return tf.maxPool(tf.pad(x, padding4(op.pads), -Infinity), [...op.kernel], [...op.strides], 'valid');
    case 'avgPool': {
      const sum = tf.mul(
        tf.avgPool(tf.pad(x, padding4(op.pads), 0), [...op.kernel], [...op.strides], 'valid'),
        op.kernel[0] * op.kernel[1],
      );
      const [, oh, ow] = node.shape as [number, number, number];
      const [, h, w] = x.shape;
      const rows = counted(oh, op.kernel[0], op.strides[0], op.pads[0], -op.countPads[0], h + op.countPads[1]);
      const cols = counted(ow, op.kernel[1], op.strides[1], op.pads[2], -op.countPads[2], w + op.countPads[3]);
      return tf.div(
        sum,
        tf.tensor4d(
          rows.flatMap((r) => cols.map((c) => r * c)),
          [1, oh, ow, 1],
        ),
      );
    }
    case 'globalAvgPool':
      return tf.mean(x, [1, 2], op.keepDims);
    case 'concat':
      return tf.concat(xs, -1);
    case 'add':
      return tf.addN(xs);
    case 'lrn':
      return tf.localResponseNormalization(x, op.depthRadius, op.bias, op.alpha, op.beta);
    case 'flatten':
      return tf.reshape(op.order === 'chw' && x.rank === 4 ? tf.transpose(x, [0, 3, 1, 2]) : x, [1, -1]);
    case 'identity':
      return x;
    case 'softmax':
      return tf.softmax(x);
    default:
      throw new Error(`evaluator: no op ${op.type}`);
  }
}

/** Every node's output for the graph's input `input`. Call inside tf.tidy. */
export function evaluate(graph: ModelGraph, input: tf.Tensor): Map<string, tf.Tensor> {
  const values = new Map<string, tf.Tensor>();
  for (const node of graph.nodes) {
    const xs = node.inputs.map((i) => values.get(i)!);
    values.set(node.name, evalNode(node, xs, input));
  }
  return values;
}

/**
 * For every blob, max |graph − reference| / max |reference|, the graph's value of a blob being
 * the node of the last layer that writes it (ReLU, Dropout write in place).
 */
export function blobErrors(graph: ModelGraph, ref: CaffeReference, x: tf.Tensor4D): Map<string, number> {
  const errors = new Map<string, number>();
  tf.tidy(() => {
    const ours = evaluate(graph, x);
    const theirs = ref.run(x);
    const writer = new Map(ref.layers.map((l) => [l.top, l.name]));
    for (const [blob, value] of theirs) {
      const mine = ours.get(writer.get(blob)!)!;
      expect(mine.shape, blob).toEqual(value.shape);
      const scale = Math.max(1e-6, tf.max(tf.abs(value)).dataSync()[0]!);
      errors.set(blob, tf.max(tf.abs(tf.sub(mine, value))).dataSync()[0]! / scale);
    }
  });
  return errors;
}

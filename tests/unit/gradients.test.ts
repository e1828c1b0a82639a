import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import '@tensorflow/tfjs-backend-cpu';
import type * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, test } from 'vitest';
import { Network } from '../../src/explain/network/network.js';
import { buildChainModel, headAfter } from '../helpers/toy-models.js';
import { importKeras } from '../../src/explain/models/importers/keras.js';

// The engine back-propagates with forward ops only. Here its gradients are checked against
// tf.grad through tfjs-layers' own implementation and against central finite differences.

let model: tfl.LayersModel;
let network: Network;
let x: tf.Tensor4D;

beforeAll(async () => {
  await tf.setBackend('cpu');
  model = buildChainModel();
  network = new Network(importKeras(model));
  x = tf.randomUniform([1, 16, 16, 3], -1, 1, 'float32', 3) as tf.Tensor4D;
});

const CLASS = 2;

/** The scalar Grad-CAM differentiates, from logits. */
function reduce(logits: tf.Tensor, reduction: 'logit' | 'softmax'): tf.Scalar {
  const z = tf.reshape(logits, [1, 5]);
  const s = reduction === 'logit' ? z : tf.softmax(z);
  return tf.sum(tf.mul(s, tf.oneHot([CLASS], 5))) as tf.Scalar;
}

function engineGradient(layer: string, reduction: 'logit' | 'softmax'): { a: tf.Tensor; g: tf.Tensor } {
  const plan = network.plan([layer]);
  const values = network.forward(plan, x, [layer]);
  const logits = tf.reshape(values.get(plan.logits)!, [1, 5]);
  const oneHot = tf.cast(tf.oneHot([CLASS], 5), 'float32');
  const probs = tf.softmax(logits);
  const dLogits = reduction === 'logit' ? oneHot : tf.mul(tf.sum(tf.mul(probs, oneHot)), tf.sub(oneHot, probs));
  const g = network.backward(plan, values, dLogits, [layer]).get(layer)!;
  return { a: values.get(layer)!, g };
}

describe('the chain model', () => {
  test('is analysed: candidate layers, logits, softmax and the CAM layer', () => {
    expect(network.featureLayers.map((l) => l.name)).toEqual([
      'conv_a',
      'bn_a',
      'relu_a',
      'dw_b',
      'bn_b',
      'relu_b',
      'pw_c',
      'bn_c',
      'relu_c',
      'dw_d',
      'bn_d',
      'relu_d',
      'pad_e',
      'conv_f',
    ]);
    expect(network.lastConvLayer).toEqual({ name: 'conv_f', height: 4, width: 4, channels: 10 });
    expect(network.logits).toBe('logits');
    expect(network.softmax).toBe('probs');
    expect(network.camLayer).toBe('conv_f');
  });

  test('the folded, fused forward pass matches tfjs-layers', async () => {
    const plan = network.plan([]);
    const ours = tf.tidy(() => tf.softmax(tf.reshape(network.forward(plan, x, []).get(plan.logits)!, [1, 5])));
    const theirs = model.predict(x) as tf.Tensor;
    const diff = await tf.max(tf.abs(tf.sub(ours, theirs))).data();
    expect(diff[0]).toBeLessThan(1e-5);
  });
});

describe.each(['logit', 'softmax'] as const)('gradients of the %s', (reduction) => {
  test.each([
    'conv_a',
    'bn_a',
    'relu_a',
    'dw_b',
    'bn_b',
    'relu_b',
    'pw_c',
    'bn_c',
    'relu_c',
    'dw_d',
    'bn_d',
    'relu_d',
    'pad_e',
    'conv_f',
  ])('at %s match tf.grad through tfjs-layers', async (layer) => {
    const head = headAfter(model, layer, 'logits');
    const [err, scale] = tf
      .tidy(() => {
        const { a, g } = engineGradient(layer, reduction);
        const reference = tf.grad((t) => reduce(head(t), reduction))(a);
        return [tf.max(tf.abs(tf.sub(g, reference))), tf.max(tf.abs(reference))];
      })
      .map((t) => t.dataSync()[0]!);
    expect(scale).toBeGreaterThan(1e-4); // a zero gradient would make the comparison empty
    expect(err).toBeLessThan(1e-5 * Math.max(scale, 1e-3) + 1e-7);
  });

  test.each(['conv_a', 'dw_b', 'relu_c', 'dw_d', 'pad_e', 'conv_f'])(
    'at %s match central finite differences',
    (layer) => {
      const head = headAfter(model, layer, 'logits');
      const { a, g } = engineGradient(layer, reduction);
      const values = a.dataSync();
      const grads = g.dataSync();
      const eps = 1e-3;
      const f = (v: Float32Array): number =>
        tf.tidy(() => reduce(head(tf.tensor(v, a.shape)), reduction).dataSync()[0]!);
      // The 16 positions with the largest gradients, plus 16 spread over the map.
      const order = Array.from(grads.keys()).sort((i, j) => Math.abs(grads[j]!) - Math.abs(grads[i]!));
      const picks = [
        ...order.slice(0, 16),
        ...Array.from({ length: 16 }, (_, k) => Math.floor(((k + 0.5) / 16) * grads.length)),
      ];
      const gmax = Math.abs(grads[order[0]!]!);
      for (const i of picks) {
        const plus = Float32Array.from(values);
        const minus = Float32Array.from(values);
        plus[i]! += eps;
        minus[i]! -= eps;
        const numeric = (f(plus) - f(minus)) / (2 * eps);
        expect(Math.abs(numeric - grads[i]!), `element ${i}`).toBeLessThan(0.02 * gmax + 1e-4);
      }
    },
  );
});

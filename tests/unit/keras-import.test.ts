import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, test } from 'vitest';
import { Network } from '../../src/explain/network/network.js';
import { importKeras } from '../../src/explain/models/importers/keras.js';

// The Keras importer and the op table decide, per Keras class, what head detection looks through and what the
// feature-layer search may differentiate. These networks hang dropout-like layers after the
// softmax and between the feature map and the pooling, where the table must treat them as the identity.

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function network(tail: (x: tfl.SymbolicTensor) => tfl.SymbolicTensor, between?: tfl.layers.Layer): Network {
  const input = tfl.input({ shape: [6, 6, 3] });
  let features = tfl.layers
    .conv2d({ filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', name: 'features' })
    .apply(input) as tfl.SymbolicTensor;
  if (between) features = between.apply(features) as tfl.SymbolicTensor;
  const pooled = tfl.layers.globalAveragePooling2d({}).apply(features) as tfl.SymbolicTensor;
  const probs = tfl.layers
    .dense({ units: 3, activation: 'softmax', name: 'scores' })
    .apply(pooled) as tfl.SymbolicTensor;
  return new Network(importKeras(tfl.model({ inputs: input, outputs: tail(probs) })));
}

describe('the layer table', () => {
  test('head detection looks through SpatialDropout1D after the softmax (it used to stop there)', () => {
    const net = network((p) => {
      const seq = tfl.layers.reshape({ targetShape: [1, 3] }).apply(p) as tfl.SymbolicTensor;
      const dropped = tfl.layers.spatialDropout1d({ rate: 0.5 }).apply(seq) as tfl.SymbolicTensor;
      return tfl.layers.flatten().apply(dropped) as tfl.SymbolicTensor;
    });
    expect(net.logits).toBe('scores');
    // The importer splits the Dense layer's softmax into a node of its own.
    expect(net.softmax).toBe('scores/softmax');
  });

  test('a Dropout between the feature map and the pooling keeps the feature layer and CAM', () => {
    const net = network((p) => p, tfl.layers.dropout({ rate: 0.5, name: 'drop' }));
    expect(net.featureLayers.map((l) => l.name)).toEqual(['features', 'drop']);
    expect(net.camLayer).toBe('drop');
  });

  test('a layer the table does not know blocks everything before it, and says which', () => {
    const net = network((p) => p, tfl.layers.upSampling2d({ size: [1, 1], name: 'pool' }));
    expect(net.featureLayers.map((l) => l.name)).toEqual(['pool']);
    expect(() => net.layer('features')).toThrow(/"pool" \(UpSampling2D\), cannot be back-propagated through/);
  });
});

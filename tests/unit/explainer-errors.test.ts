import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { afterEach, beforeAll, describe, expect, test, vi } from 'vitest';
import { Explainer } from '../../src/explain/methods/explainer.js';
import { LabelSet } from '../../src/explain/network/labels.js';
import { buildChainModel } from '../helpers/toy-models.js';
import { importKeras } from '../../src/explain/models/importers/keras.js';

// An explanation that fails half-way (a kernel throws, the GPU device is lost during read-back)
// must leave no tensor behind: the worker keeps going after a failed frame, for hours.

let explainer: Explainer;
let image: tf.Tensor3D;

beforeAll(async () => {
  await tf.setBackend('cpu');
  explainer = new Explainer(importKeras(buildChainModel()), {
    labels: new LabelSet(['a', 'b', 'c', 'd', 'e']),
    inputSize: [16, 16],
    inputRange: [-1, 1],
  });
  image = tf.randomUniform([20, 24, 3], 0, 255, 'int32', 3) as tf.Tensor3D;
  // A first run creates whatever the engine keeps (folded weights, plans).
  await explainer.explain(image, { method: 'gradcam' });
  await explainer.classify(image);
});

afterEach(() => {
  vi.restoreAllMocks();
});

const failure = new Error('injected failure');

describe('an explanation that throws half-way', () => {
  test.each(['forward', 'backward'] as const)(
    'in the %s pass leaves tf.memory().numTensors as it was',
    async (pass) => {
      const before = tf.memory().numTensors;
      vi.spyOn(explainer.network, pass).mockImplementation(() => {
        throw failure;
      });
      await expect(explainer.explain(image, { method: 'gradcam' })).rejects.toBe(failure);
      expect(tf.memory().numTensors).toBe(before);
      vi.restoreAllMocks();
      // And the explainer still works afterwards.
      const result = await explainer.explain(image, { method: 'gradcam' });
      expect(result.heatmap.data.length).toBeGreaterThan(0);
      expect(tf.memory().numTensors).toBe(before);
    },
  );

  test('in the read-back leaves no tensor behind, for explain and classify', async () => {
    const before = tf.memory().numTensors;
    vi.spyOn(tf.Tensor.prototype, 'data').mockRejectedValue(failure);
    await expect(explainer.explain(image, { method: 'layercam' })).rejects.toBe(failure);
    await expect(explainer.classify(image)).rejects.toBe(failure);
    expect(tf.memory().numTensors).toBe(before);
  });

  test('in classify’s forward pass leaves no tensor behind', async () => {
    const before = tf.memory().numTensors;
    vi.spyOn(explainer.network, 'forward').mockImplementation(() => {
      throw failure;
    });
    await expect(explainer.classify(image)).rejects.toBe(failure);
    expect(tf.memory().numTensors).toBe(before);
  });
});

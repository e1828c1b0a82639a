import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import '@tensorflow/tfjs-backend-cpu';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Explainer } from '../../src/explain/methods/explainer.js';
import { normalizeHeatmapInPlace } from '../../src/explain/methods/heatmap.js';
import { gradCam } from '../../src/explain/methods/methods.js';
import { toInputTensor } from '../../src/explain/runtime/input.js';
import { cropRegion } from '../../src/explain/runtime/preprocess.js';
import { readImage } from '../../src/node/image-io.js';
import { type CaffeReference, loadCaffeReference } from '../helpers/caffe-reference.js';
import { mirrorExplainer } from '../helpers/engine.js';
import { photo, SHARED, SHARED_MODELS } from '../helpers/shared.js';
import { maxAbsDiff } from '../helpers/stats.js';

// The two Caffe networks through the engine's Caffe importer, against an independent plain-tfjs
// implementation of the same deploy.prototxt (tests/helpers/caffe-reference.ts): the same
// predictions, and Grad-CAM equal to the map of tf.grad through the reference.

const PICTURES = [
  photo('sherlock_golden_retriever.jpg'),
  photo('samoyed.jpg'),
  `${SHARED}/images/imagenet-samples/n02105855_Shetland_sheepdog.jpg`,
];

const CASES = [
  {
    id: 'googlenet',
    folder: 'bvlc_googlenet_caffejs',
    logits: 'loss3/classifier',
    // engine layer name → the reference's blob holding the same value
    layers: [
      ['inception_5b/output', 'inception_5b/output'],
      ['inception_4e/output', 'inception_4e/output'],
    ] as [string, string][],
  },
  {
    id: 'squeezenet1.1',
    folder: 'squeezenet1.1_caffejs',
    logits: 'pool10',
    layers: [
      ['relu_conv10', 'conv10'],
      ['fire9/concat', 'fire9/concat'],
    ] as [string, string][],
  },
] as const;

const MEAN_BGR = [104, 117, 123];

describe.each(CASES)('$id', ({ id, folder, logits, layers }) => {
  let explainer: Explainer;
  let reference: CaffeReference;
  beforeAll(async () => {
    // tfjs' own kernel leak check misfires on WASM's fused convolution under a tape.
    tf.env().set('IS_TEST', false);
    explainer = await mirrorExplainer('wasm', id);
    reference = await loadCaffeReference(path.join(SHARED_MODELS, folder));
  }, 120_000);
  afterAll(() => {
    explainer.dispose();
    reference.dispose();
    tf.env().set('IS_TEST', true);
  });

  /** The engine's own input (RGB 0–255, the whole picture resized) and the same as Caffe wants it: BGR minus the mean. */
  async function inputs(file: string) {
    const image = await readImage(file);
    const region = cropRegion(image.width, image.height, explainer.inputSize, 'full');
    const rgb = await toInputTensor(image, region, explainer.inputSize, explainer.inputRange);
    const bgr = tf.tidy(() => tf.sub(tf.reverse(rgb, -1), tf.tensor1d(MEAN_BGR)) as tf.Tensor4D);
    rgb.dispose();
    return { image, bgr };
  }

  test.each(PICTURES)(
    '%s: the top-5 and their probabilities equal the reference’s',
    async (file) => {
      const { image, bgr } = await inputs(file);
      const r = await explainer.explain(image, { method: 'gradcam', crop: 'full', topK: 5 });
      const probs = tf.tidy(() => tf.reshape(tf.softmax(tf.reshape(reference.run(bgr).get(logits)!, [1, -1])), [-1]));
      const p = (await probs.data()) as Float32Array;
      probs.dispose();
      bgr.dispose();
      const top = [...p.keys()].sort((a, b) => p[b]! - p[a]!).slice(0, 5);
      expect(r.predictions.map((q) => q.classIndex)).toEqual(top);
      for (const q of r.predictions) expect(Math.abs(q.score - p[q.classIndex]!)).toBeLessThan(1e-4);
    },
    60_000,
  );

  test('sherlock.jpg is a golden retriever (the seed’s example)', async () => {
    const image = await readImage(photo('sherlock_golden_retriever.jpg'));
    const r = await explainer.classify(image, { crop: 'full' });
    expect(r.predictions[0]!.label).toBe('golden retriever');
  });

  test.each(layers)(
    'Grad-CAM at %s equals the map of tf.grad through the reference (within 1e-4)',
    async (layer: string, blob: string) => {
      const { image, bgr } = await inputs(photo('sherlock_golden_retriever.jpg'));
      const r = await explainer.explain(image, { method: 'gradcam', layer, crop: 'full' });
      const cls = r.target.classIndex;
      // The activations on WASM, as the engine's; the gradient by tf.grad on the cpu backend (WASM
      // lacks the gradient kernels of pooling and convolution; tfjs moves the tensors itself).
      const a = tf.tidy(() => reference.run(bgr).get(blob)!) as tf.Tensor4D;
      await tf.setBackend('cpu');
      const map = tf.tidy(() => {
        const oneHot = tf.cast(tf.reshape(tf.oneHot([cls], 1000), [-1]), 'float32');
        const score = (t: tf.Tensor): tf.Scalar => {
          const z = reference.run(bgr, { from: { blob, value: t } }).get(logits)!;
          return tf.sum(tf.mul(tf.reshape(z, [-1]), oneHot)) as tf.Scalar;
        };
        return gradCam(a, tf.grad(score)(a) as tf.Tensor4D);
      });
      const values = normalizeHeatmapInPlace((await map.data()) as Float32Array);
      map.dispose();
      a.dispose();
      bgr.dispose();
      await tf.setBackend('wasm');
      expect(Math.max(...values)).toBe(1);
      expect(r.heatmap.data.length).toBe(values.length);
      expect(maxAbsDiff(r.heatmap.data, values)).toBeLessThan(1e-4);
    },
    180_000,
  );
});

import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Explainer } from '../../src/explain/methods/explainer.js';
import { heatmapPeak, normalizeHeatmapInPlace } from '../../src/explain/methods/heatmap.js';
import { toInputTensor } from '../../src/explain/runtime/input.js';
import { gradCam, layerCam } from '../../src/explain/methods/methods.js';
import { cropRegion } from '../../src/explain/runtime/preprocess.js';
import { readImage } from '../../src/node/image-io.js';
import { mirrorExplainer } from '../helpers/engine.js';
import { photo } from '../helpers/shared.js';
import { correlation, maxAbsDiff } from '../helpers/stats.js';
import { headAfter } from '../helpers/toy-models.js';
import { kerasSource } from '../helpers/keras-source.js';

// "Why A and not B": the contrastive map explains logit_A − logit_B (with softmax, p_A − p_B).
// Checked against tf.grad of that difference through tfjs-layers' own layers, with MobileNet's real
// weights on the cpu backend.

let explainer: Explainer;
beforeAll(async () => {
  explainer = await mirrorExplainer('cpu');
});
afterAll(() => explainer.dispose());

const BULL_MASTIFF = 243;
const TIGER_CAT = 282;

/** The layers from the input up to `layer`, run by tfjs-layers itself (not the engine's plan). */
function bodyUpTo(model: tfl.LayersModel, layer: string): (x: tf.Tensor) => tf.Tensor {
  const names = model.layers.map((l) => l.name);
  const chain = model.layers.slice(1, names.indexOf(layer) + 1);
  return (x) => chain.reduce((t, l) => l.apply(t) as tf.Tensor, x);
}

/**
 * The map the method gives when the gradient is tf.grad, w.r.t. the layer's activations, of
 * logit_A − logit_B, or with softmax of p_A − p_B: activations and head both run by tfjs-layers.
 */
async function referenceMap(
  image: Awaited<ReturnType<typeof readImage>>,
  layer: string,
  method: 'gradcam' | 'layercam',
  a: number,
  b: number,
  reduction: 'logit' | 'softmax' = 'logit',
): Promise<Float32Array> {
  const region = cropRegion(image.width, image.height, explainer.inputSize, 'full');
  const x = await toInputTensor(image, region, explainer.inputSize, explainer.inputRange);
  const network = explainer.network;
  const map = tf.tidy(() => {
    const activations = bodyUpTo(kerasSource(network), layer)(x) as tf.Tensor4D;
    const head = headAfter(kerasSource(network), layer, network.logits);
    const difference = (t: tf.Tensor): tf.Scalar => {
      const logits = tf.reshape(head(t), [-1]);
      const scores = reduction === 'softmax' ? tf.softmax(logits) : logits;
      return tf.sub(tf.gather(scores, a), tf.gather(scores, b)) as tf.Scalar;
    };
    const g = tf.grad(difference)(activations) as tf.Tensor4D;
    return method === 'gradcam' ? gradCam(activations, g) : layerCam(activations, g);
  });
  x.dispose();
  const values = (await map.data()) as Float32Array;
  map.dispose();
  return normalizeHeatmapInPlace(values);
}

describe('contrastive maps (why A and not B)', () => {
  test.each([
    ['gradcam', 'conv_pw_13_relu'],
    ['layercam', 'conv_pw_13_relu'],
  ] as const)('%s at %s equals the map of tf.grad(logit_A − logit_B)', async (method, layer) => {
    const image = await readImage(photo('gradcam_cat_dog.png'));
    const r = await explainer.explain(image, {
      method,
      layer,
      classIndex: BULL_MASTIFF,
      contrastClass: TIGER_CAT,
      crop: 'full',
    });
    const reference = await referenceMap(image, layer, method, BULL_MASTIFF, TIGER_CAT);
    expect(r.heatmap.data.length).toBe(reference.length);
    expect(Math.max(...reference)).toBe(1); // a flat reference would make the comparison empty
    expect(maxAbsDiff(r.heatmap.data, reference)).toBeLessThan(1e-3);
    expect(r.target).toMatchObject({ classIndex: BULL_MASTIFF, label: 'bull mastiff' });
    expect(r.contrast).toMatchObject({ classIndex: TIGER_CAT, label: 'tiger cat' });
    expect(r.contrast!.logit).toBeLessThan(r.target.logit);
  });

  test('the contrast changes the map: "dog, not cat" lights the dog (top), "cat, not dog" the cat (bottom)', async () => {
    const image = await readImage(photo('gradcam_cat_dog.png'));
    const [dog, dogNotCat, catNotDog] = await explainer.explainMany(
      image,
      [
        { method: 'gradcam', classIndex: BULL_MASTIFF },
        { method: 'gradcam', classIndex: BULL_MASTIFF, contrastClass: TIGER_CAT },
        { method: 'gradcam', classIndex: TIGER_CAT, contrastClass: BULL_MASTIFF },
      ],
      { crop: 'full' },
    );
    expect(maxAbsDiff(dog!.heatmap.data, dogNotCat!.heatmap.data)).toBeGreaterThan(0.05);
    expect(heatmapPeak(dogNotCat!.heatmap, dogNotCat!.region).y).toBeLessThan(image.height * 0.45);
    expect(heatmapPeak(catNotDog!.heatmap, catNotDog!.region).y).toBeGreaterThan(image.height * 0.55);
    expect(correlation(dogNotCat!.heatmap.data, catNotDog!.heatmap.data)).toBeLessThan(0);
  });

  test('with softmax, the map explains p_A − p_B, and a class against itself has nothing to show', async () => {
    const image = await readImage(photo('gradcam_cat_dog.png'));
    const [logit, softmax, self] = await explainer.explainMany(
      image,
      [
        { method: 'gradcam', classIndex: BULL_MASTIFF, contrastClass: TIGER_CAT },
        { method: 'gradcam', classIndex: BULL_MASTIFF, contrastClass: TIGER_CAT, reduction: 'softmax' },
        { method: 'gradcam', classIndex: BULL_MASTIFF, contrastClass: BULL_MASTIFF },
      ],
      { crop: 'full' },
    );
    expect(softmax!.reduction).toBe('softmax');
    // The softmax contrast seed is d(p_A − p_B)/dz: the map equals that of tf.grad(p_A − p_B).
    const reference = await referenceMap(image, softmax!.layer, 'gradcam', BULL_MASTIFF, TIGER_CAT, 'softmax');
    expect(Math.max(...reference)).toBe(1);
    expect(maxAbsDiff(softmax!.heatmap.data, reference)).toBeLessThan(1e-4);
    expect(heatmapPeak(softmax!.heatmap, softmax!.region).y).toBeLessThan(image.height * 0.45);
    expect(maxAbsDiff(logit!.heatmap.data, softmax!.heatmap.data)).toBeGreaterThan(0.01);
    expect(Math.max(...self!.heatmap.data)).toBe(0);
  });

  test('an out-of-range contrast class is refused', () => {
    expect(() => explainer.resolve({ method: 'gradcam', contrastClass: 1000 })).toThrow(/out of range/);
  });
});

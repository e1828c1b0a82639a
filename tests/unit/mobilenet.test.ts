import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Explainer } from '../../src/explain/methods/explainer.js';
import { heatmapPeak, upsampleHeatmap } from '../../src/explain/methods/heatmap.js';
import { type Box, boxUnionMask, energyInMask, maskShare, pointInBoxes } from '../../src/explain/evaluation/metrics.js';
import { readImage } from '../../src/node/image-io.js';
import { mirrorExplainer } from '../helpers/engine.js';
import { photo } from '../helpers/shared.js';
import { correlation, maxAbsDiff } from '../helpers/stats.js';

// MobileNet V1 0.75 with its real ImageNet weights, on WASM (the CLI's backend).

let explainer: Explainer;
beforeAll(async () => {
  explainer = await mirrorExplainer('wasm');
});
afterAll(() => explainer.dispose());

// Hand-drawn box around the dog's head in MATLAB's sherlock.jpg (960×640): the part that makes it a golden retriever.
const SHERLOCK_HEAD: Box = [375, 30, 830, 395];

describe('MobileNet V1 0.75', () => {
  test('is analysed: 81 candidate layers, the last conv map by default, logits at conv_preds', () => {
    expect(explainer.featureLayers).toHaveLength(81);
    expect(explainer.featureLayers[0]).toEqual({ name: 'conv1', height: 112, width: 112, channels: 24 });
    expect(explainer.lastConvLayer).toBe('conv_pw_13_relu');
    expect(explainer.camLayer).toBe('conv_pw_13_relu');
    expect(explainer.network.logits).toBe('conv_preds');
    expect(explainer.network.softmax).toBe('act_softmax');
    expect(explainer.featureLayers.find((l) => l.name === 'conv_pw_11_relu')).toEqual({
      name: 'conv_pw_11_relu',
      height: 14,
      width: 14,
      channels: 384,
    });
  });

  test.each([
    ['gradcam', 'auto'],
    ['cam', 'auto'],
    ['gradcam++', 'auto'],
    ['layercam', 'conv_pw_11_relu'],
  ] as const)('sherlock.jpg is a golden retriever and %s at %s peaks on its head', async (method, layer) => {
    const image = await readImage(photo('sherlock_golden_retriever.jpg'));
    const r = await explainer.explain(image, { method, layer, crop: 'full' });
    expect(r.predictions[0]!.label).toBe('golden retriever');
    expect(r.target).toMatchObject({ classIndex: 207, label: 'golden retriever' });
    expect(r.target.score).toBeGreaterThan(0.5);
    const peak = heatmapPeak(r.heatmap, r.region);
    expect(pointInBoxes(peak.x, peak.y, [SHERLOCK_HEAD])).toBe(true);
    // The head covers 27% of the picture; it must hold far more than 27% of the map.
    const mask = boxUnionMask(image.width, image.height, [SHERLOCK_HEAD]);
    const energy = energyInMask(upsampleHeatmap(r.heatmap, r.region, image.width, image.height), mask);
    expect(energy).toBeGreaterThan(1.5 * maskShare(mask));
  });

  test("on the Grad-CAM paper's picture, bull mastiff lights up the dog (top) and tiger cat the cat (bottom)", async () => {
    const image = await readImage(photo('gradcam_cat_dog.png'));
    const [dog, cat] = await explainer.explainMany(
      image,
      [
        { method: 'gradcam', classIndex: 243 },
        { method: 'gradcam', classIndex: 282 },
      ],
      { crop: 'full' },
    );
    expect(dog!.predictions.slice(0, 2).map((p) => p.classIndex)).toEqual([243, 282]);
    expect(heatmapPeak(dog!.heatmap, dog!.region).y).toBeLessThan(image.height * 0.45);
    expect(heatmapPeak(cat!.heatmap, cat!.region).y).toBeGreaterThan(image.height * 0.55);
    expect(correlation(dog!.heatmap.data, cat!.heatmap.data)).toBeLessThan(0.3);
  });

  test('on the cat-and-puppy photo, the cat class lights up the cat (left) and the best dog class the puppy (right)', async () => {
    const image = await readImage(photo('cat_and_puppy.jpg'));
    const all = await explainer.classify(image, { topK: 1000, crop: 'full' });
    const cat = all.predictions.find((p) => [281, 282, 285].includes(p.classIndex))!;
    const dog = all.predictions.find((p) => p.classIndex >= 151 && p.classIndex <= 268)!;
    const [catMap, dogMap] = await explainer.explainMany(
      image,
      [
        { method: 'gradcam', classIndex: cat.classIndex },
        { method: 'gradcam', classIndex: dog.classIndex },
      ],
      { crop: 'full' },
    );
    expect(heatmapPeak(catMap!.heatmap, catMap!.region).x).toBeLessThan(image.width * 0.45);
    expect(heatmapPeak(dogMap!.heatmap, dogMap!.region).x).toBeGreaterThan(image.width * 0.55);
  });

  test('Grad-CAM with logit reduction at the last conv layer equals CAM; with softmax it differs', async () => {
    for (const name of ['sherlock_golden_retriever.jpg', 'gradcam_cat_dog.png', 'horses.jpg', 'samoyed.jpg']) {
      const image = await readImage(photo(name));
      const [camMap, logit, softmax] = await explainer.explainMany(
        image,
        [{ method: 'cam' }, { method: 'gradcam', reduction: 'logit' }, { method: 'gradcam', reduction: 'softmax' }],
        { crop: 'full' },
      );
      expect(correlation(camMap!.heatmap.data, logit!.heatmap.data), name).toBeGreaterThan(0.999);
      expect(maxAbsDiff(camMap!.heatmap.data, logit!.heatmap.data), name).toBeLessThan(1e-4);
      expect(maxAbsDiff(camMap!.heatmap.data, softmax!.heatmap.data), name).toBeGreaterThan(0.02);
    }
  });

  test('a pinned class is explained, whatever the top-1', async () => {
    const image = await readImage(photo('sherlock_golden_retriever.jpg'));
    const r = await explainer.explain(image, { method: 'gradcam', classIndex: 208 });
    expect(r.predictions[0]!.classIndex).toBe(207);
    expect(r.target).toMatchObject({ classIndex: 208, label: 'Labrador retriever' });
  });

  test('no tensor leaks over 100 explanations of every kind', async () => {
    const image = await readImage(photo('goldfish.jpg'));
    const kinds = [
      { method: 'cam' },
      { method: 'gradcam' },
      { method: 'gradcam++', reduction: 'softmax' },
      { method: 'layercam', layer: 'conv_pw_11_relu' },
      { method: 'gradcam', layer: 'conv_dw_12', classIndex: 1 },
    ] as const;
    await explainer.explain(image, kinds[0]); // plans and folded weights are built once, then reused
    for (const k of kinds) await explainer.explain(image, k);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 100; i++) await explainer.explain(image, kinds[i % kinds.length]!);
    await explainer.classify(image);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('bad requests are refused with the valid choices', () => {
  const image = { width: 4, height: 4, data: new Uint8Array(64) };

  test('an unknown layer', async () => {
    await expect(explainer.explain(image, { method: 'gradcam', layer: 'conv_pw_99' })).rejects.toMatchObject({
      code: 'unknown-layer',
      message: expect.stringMatching(/no layer named "conv_pw_99"[\s\S]*conv_pw_13_relu \(7×7\)/),
    });
  });

  test.each([
    ['global_average_pooling2d_1', /no spatial map/],
    ['conv_preds', /no spatial map/],
    ['input_1', /input image itself/],
    ['reshape_2', /comes after the logits/],
  ])('a layer that cannot be cut: %s', async (layer, why) => {
    await expect(explainer.explain(image, { method: 'gradcam', layer })).rejects.toMatchObject({
      code: 'layer-not-cuttable',
      message: expect.stringMatching(why),
    });
  });

  test('CAM away from the pooled layer', async () => {
    await expect(explainer.explain(image, { method: 'cam', layer: 'conv_pw_11_relu' })).rejects.toMatchObject({
      code: 'method-unavailable',
      message: expect.stringContaining('conv_pw_13_relu'),
    });
  });

  test('a class index out of range, an unknown method, a bad top-k', async () => {
    await expect(explainer.explain(image, { method: 'gradcam', classIndex: 1000 })).rejects.toMatchObject({
      code: 'unknown-class',
    });
    await expect(explainer.explain(image, { method: 'saliency' as never })).rejects.toMatchObject({
      code: 'bad-option',
      message: expect.stringContaining('gradcam++'),
    });
    await expect(explainer.explain(image, { method: 'gradcam', topK: 0 })).rejects.toMatchObject({
      code: 'bad-option',
    });
  });

  test('a pixel buffer of the wrong size, and an empty image', async () => {
    await expect(
      explainer.explain({ width: 5, height: 4, data: new Uint8Array(64) }, { method: 'cam' }),
    ).rejects.toMatchObject({ code: 'bad-image' });
    await expect(
      explainer.explain({ width: 0, height: 0, data: new Uint8Array(0) }, { method: 'cam' }),
    ).rejects.toMatchObject({ code: 'bad-image' });
  });
});

import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Explainer } from '../../src/explain/methods/explainer.js';
import type { RgbaImage } from '../../src/explain/runtime/input.js';
import { cascadeBlocks, randomizedExplainer, sanityCheck, spearman } from '../../src/explain/evaluation/sanity.js';
import { readImage } from '../../src/node/image-io.js';
import { mirrorExplainer } from '../helpers/engine.js';
import { photo } from '../helpers/shared.js';
import { kerasSource } from '../helpers/keras-source.js';

// The model-randomisation sanity check, and the guarantee that it never touches the real network.

describe('Spearman rank correlation', () => {
  test('is 1 for any increasing relation, −1 for a decreasing one, and uses average ranks for ties', () => {
    expect(spearman([1, 2, 3, 4], [10, 20, 30, 1000])).toBeCloseTo(1, 12);
    expect(spearman([1, 2, 3, 4], [4, 3, 2, 1])).toBeCloseTo(-1, 12);
    // Ranks with ties: a = [1.5, 1.5, 3, 4]; b = [1, 2, 3, 4] → ρ = 0.9487 (Pearson of the ranks).
    expect(spearman([0, 0, 1, 2], [1, 2, 3, 4])).toBeCloseTo(0.9486833, 6);
    expect(spearman([0, 0, 0], [1, 2, 3])).toBe(0);
  });
});

describe('cascading randomisation of MobileNet V1 0.75', () => {
  let explainer: Explainer;
  let image: RgbaImage;
  beforeAll(async () => {
    explainer = await mirrorExplainer('wasm');
    image = await readImage(photo('sherlock_golden_retriever.jpg'));
  });
  afterAll(() => explainer.dispose());

  test('blocks run from the logits down to the first convolution', () => {
    const blocks = cascadeBlocks(explainer.network);
    expect(blocks.map((b) => b.name)).toEqual([
      'logits',
      ...Array.from({ length: 13 }, (_, i) => `block ${13 - i}`),
      'conv1',
    ]);
    expect(blocks[1]!.layers).toEqual(['conv_pw_13_bn', 'conv_pw_13', 'conv_dw_13_bn', 'conv_dw_13']);
  });

  test('a randomised copy changes the prediction and the map; the real network comes back bit for bit', async () => {
    const request = { method: 'layercam' as const, layer: 'conv_pw_11_relu', crop: 'full' as const, topK: 3 };
    const before = await explainer.explain(image, request);
    const weightsBefore = kerasSource(explainer.network)
      .getLayer('conv_preds')
      .getWeights()[0]!
      .dataSync()
      .slice(0, 64);
    const scrambled = randomizedExplainer(explainer, 3, 7);
    const random = await scrambled.explain(image, { ...request, classIndex: before.target.classIndex });
    scrambled.dispose();
    expect(random.target.score).toBeLessThan(0.01);
    // The features below the scrambled blocks are intact, so the map keeps part of its shape (ρ ≈ 0.68 here).
    expect(spearman(before.heatmap.data, random.heatmap.data)).toBeLessThan(0.8);
    const after = await explainer.explain(image, request);
    expect(after.predictions).toEqual(before.predictions);
    expect(Array.from(after.heatmap.data)).toEqual(Array.from(before.heatmap.data));
    expect(
      Array.from(kerasSource(explainer.network).getLayer('conv_preds').getWeights()[0]!.dataSync().slice(0, 64)),
    ).toEqual(Array.from(weightsBefore));
    // Zero blocks: an unchanged copy gives the original map exactly.
    const copy = randomizedExplainer(explainer, 0);
    const same = await copy.explain(image, request);
    copy.dispose();
    expect(Array.from(same.heatmap.data)).toEqual(Array.from(before.heatmap.data));
  });

  test('the check reports falling correlations per block, and progress per (block, image)', async () => {
    const numBefore = tf.memory().numTensors;
    const progress: number[] = [];
    const report = await sanityCheck(
      explainer,
      [image],
      {
        cam: { method: 'cam' },
        layercam: { method: 'layercam', layer: 'conv_pw_11_relu' },
      },
      { crop: 'full', depth: 3, onProgress: (d) => progress.push(d) },
    );
    expect(report.blocks).toEqual(['logits', 'block 13', 'block 12']);
    expect(progress).toEqual([1, 2, 3]);
    // CAM's map is the classifier's weights applied to the features: random logits make it unrelated.
    expect(Math.abs(report.methods['cam']!.spearman[0]!)).toBeLessThan(0.6);
    expect(report.methods['layercam']!.spearman).toHaveLength(3);
    expect(report.methods['layercam']!.spearman[2]!).toBeLessThan(0.9);
    expect(tf.memory().numTensors).toBe(numBefore);
  });
});

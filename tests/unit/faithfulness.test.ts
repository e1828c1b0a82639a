import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { batchProbabilities } from '../../src/explain/network/batch.js';
import type { Explainer } from '../../src/explain/methods/explainer.js';
import {
  areaUnderCurve,
  FaithfulnessProbe,
  gaussianBlur,
  pixelRanks,
} from '../../src/explain/evaluation/faithfulness.js';
import { mulberry32 } from '../../src/explain/random.js';
import { upsampleHeatmap } from '../../src/explain/methods/heatmap.js';
import { networkInput } from '../../src/explain/perturbation/perturbation.js';
import { readImage } from '../../src/node/image-io.js';
import { mirrorExplainer } from '../helpers/engine.js';
import { photo } from '../helpers/shared.js';

// Deletion / insertion (RISE) on a real photo, through the batched forward pass.

describe('curve helpers', () => {
  test('the area under a curve sampled on [0, 1] is the trapezoid sum', () => {
    expect(areaUnderCurve([1, 1, 1])).toBeCloseTo(1, 12);
    expect(areaUnderCurve([1, 0])).toBeCloseTo(0.5, 12);
    expect(areaUnderCurve([0, 0.5, 1, 0.5, 0])).toBeCloseTo(0.5, 12);
  });

  test('pixels are ranked highest first, and ties are broken by a seeded shuffle, not by position', () => {
    expect(Array.from(pixelRanks([0.2, 0.9, 0.5]))).toEqual([2, 0, 1]);
    const flat = new Float32Array(1000);
    const ranks = pixelRanks(flat, 3);
    expect(new Set(ranks).size).toBe(1000);
    // Position order would give ranks 0..999 in order; a shuffle puts the first 100 pixels all over.
    const firstHundred = Array.from(ranks.slice(0, 100));
    expect(Math.max(...firstHundred)).toBeGreaterThan(800);
    expect(Array.from(pixelRanks(flat, 3))).toEqual(Array.from(ranks));
  });
});

describe('deletion and insertion on MobileNet V1 0.75', () => {
  let explainer: Explainer;
  let x: tf.Tensor4D;
  /** The network's input as 0–255 pixels, to explain exactly what the probe perturbs. */
  let pixels: tf.Tensor3D;
  beforeAll(async () => {
    explainer = await mirrorExplainer('wasm');
    ({ x } = await networkInput(explainer, await readImage(photo('sherlock_golden_retriever.jpg')), 'full'));
    pixels = tf.tidy(() => tf.squeeze(tf.add(tf.mul(x, 127.5), 127.5), [0]) as tf.Tensor3D);
  });
  afterAll(() => {
    tf.dispose([x, pixels]);
    explainer.dispose();
  });

  test('the blur keeps a flat image flat (borders normalised) and smooths a step', () => {
    const flat = tf.fill([1, 20, 20, 3], 0.7) as tf.Tensor4D;
    const blurred = gaussianBlur(flat, 5);
    expect(Math.max(...Array.from(blurred.dataSync(), (v) => Math.abs(v - 0.7)))).toBeLessThan(1e-5);
    const step = tf.concat([tf.zeros([1, 20, 10, 1]), tf.ones([1, 20, 10, 1])], 2) as tf.Tensor4D;
    const smooth = gaussianBlur(step, 2).dataSync();
    expect(smooth[10 * 20 + 9]!).toBeGreaterThan(0.2);
    expect(smooth[10 * 20 + 9]!).toBeLessThan(0.5);
    tf.dispose([flat, blurred, step]);
  });

  test('the batched forward pass gives the same probabilities as the explainer, image by image', async () => {
    const flipped = tf.reverse(x, 2) as tf.Tensor4D;
    const batch = tf.concat([x, flipped]) as tf.Tensor4D;
    const probs = batchProbabilities(explainer.network, batch);
    const together = await probs.array();
    const alone = batchProbabilities(explainer.network, flipped);
    const one = await alone.array();
    const explained = await explainer.explain(pixels, { method: 'cam', crop: 'full' });
    expect(together[0]![207]!).toBeCloseTo(explained.target.score, 5);
    expect(explained.target.classIndex).toBe(207);
    for (let c = 0; c < 1000; c += 37) expect(together[1]![c]!).toBeCloseTo(one[0]![c]!, 6);
    tf.dispose([flipped, batch, probs, alone]);
  });

  test("LayerCAM's map removes the dog faster and restores it faster than random maps", async () => {
    const explained = await explainer.explain(pixels, {
      method: 'layercam',
      layer: 'conv_pw_11_relu',
      crop: 'full',
      classIndex: 207,
    });
    const numBefore = tf.memory().numTensors;
    const probe = new FaithfulnessProbe(explainer.network, x, 207, { steps: 8 });
    const progress: number[] = [];
    const map = await probe.curves(
      upsampleHeatmap(explained.heatmap, { x: 0, y: 0, width: 224, height: 224 }, 224, 224),
      { onProgress: (d) => progress.push(d) },
    );
    const random = mulberry32(5);
    const noise = { width: 14, height: 14, data: Float32Array.from({ length: 196 }, random) };
    const chance = await probe.curves(upsampleHeatmap(noise, { x: 0, y: 0, width: 224, height: 224 }, 224, 224));
    probe.dispose();
    expect(map.deletion).toHaveLength(9);
    // Step 0 is the photo itself (p(golden retriever) = 0.64); the last deletion step is all grey,
    // the last insertion step the photo again.
    expect(map.deletion[0]!).toBeCloseTo(explained.target.score, 4);
    expect(map.insertion[8]!).toBeCloseTo(explained.target.score, 4);
    expect(map.deletion[8]!).toBeCloseTo(chance.deletion[8]!, 6);
    expect(map.deletionAuc).toBeLessThan(0.1);
    expect(map.deletionAuc).toBeLessThan(chance.deletionAuc - 0.05);
    expect(map.insertionAuc).toBeGreaterThan(chance.insertionAuc);
    expect(progress.at(-1)).toBe(18);
    expect(tf.memory().numTensors).toBe(numBefore);
  });

  test('an aborted signal stops the work', async () => {
    const probe = new FaithfulnessProbe(explainer.network, x, 207, { steps: 4, batchSize: 2 });
    const controller = new AbortController();
    const run = probe.curves(new Float32Array(224 * 224), {
      signal: controller.signal,
      onProgress: () => controller.abort(),
    });
    await expect(run).rejects.toThrow(/abort/i);
    probe.dispose();
  });
});

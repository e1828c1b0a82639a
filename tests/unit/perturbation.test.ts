import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { batchProbabilities } from '../../src/explain/network/batch.js';
import type { Explainer } from '../../src/explain/methods/explainer.js';
import { gridSegments, slicSegments, weightedRidge } from '../../src/explain/perturbation/lime.js';
import { defaultOcclusionGeometry } from '../../src/explain/perturbation/occlusion.js';
import { explainByPerturbation, type PerturbationExplanation } from '../../src/explain/perturbation/perturbation.js';
import { spearman } from '../../src/explain/evaluation/sanity.js';
import type { RgbaImage } from '../../src/explain/runtime/input.js';
import { readImage } from '../../src/node/image-io.js';
import { mirrorExplainer } from '../helpers/engine.js';
import { photo } from '../helpers/shared.js';

// Occlusion sensitivity and LIME: the model-agnostic cross-checks, on a real photo.

describe('LIME building blocks', () => {
  test('weighted ridge regression recovers a linear model (intercept unpenalised)', () => {
    const x: Uint8Array[] = [];
    const y: number[] = [];
    const w: number[] = [];
    for (let s = 0; s < 64; s++) {
      const row = Uint8Array.from([s & 1, (s >> 1) & 1, (s >> 2) & 1]);
      x.push(row);
      y.push(0.5 + 0.3 * row[0]! - 0.2 * row[1]! + 0.1 * row[2]!);
      w.push(1 + (s % 5));
    }
    const fit = weightedRidge(x, y, w, 1e-9);
    expect(fit.intercept).toBeCloseTo(0.5, 6);
    expect(Array.from(fit.coefficients)).toEqual([
      expect.closeTo(0.3, 6),
      expect.closeTo(-0.2, 6),
      expect.closeTo(0.1, 6),
    ]);
    // A penalty shrinks the coefficients towards zero.
    expect(Math.abs(weightedRidge(x, y, w, 100).coefficients[0]!)).toBeLessThan(0.2);
  });

  test('a grid cuts the picture into equal cells; superpixels follow colour edges', () => {
    const grid = gridSegments(224, 224, 49);
    expect(grid.count).toBe(49);
    expect(grid.segments[0]).toBe(0);
    expect(grid.segments[223 * 224 + 223]).toBe(48);
    // Left half dark, right half light, with the edge off the grid lines.
    const pixels = new Float32Array(60 * 60 * 3);
    for (let p = 0; p < 60 * 60; p++) pixels.fill(p % 60 < 37 ? -0.8 : 0.8, p * 3, p * 3 + 3);
    const { segments, count } = slicSegments(pixels, 60, 60, 9);
    expect(count).toBeGreaterThanOrEqual(6);
    for (let id = 0; id < count; id++) {
      const sides = new Set<boolean>();
      segments.forEach((s, p) => {
        if (s === id) sides.add(p % 60 < 37);
      });
      expect(sides.size).toBe(1);
    }
  });

  test('the default occlusion geometry is MATLAB-like: 20% mask, 10% stride', () => {
    expect(defaultOcclusionGeometry(224, 224)).toEqual({ maskSize: 45, stride: 22 });
  });
});

describe('occlusion and LIME on MobileNet V1 0.75', () => {
  let explainer: Explainer;
  let image: RgbaImage;
  /** Occlusion with one 56-pixel patch per cell of a 4×4 grid: each test runs its own. */
  const occlusionOn4x4 = (onProgress?: (done: number, total: number) => void): Promise<PerturbationExplanation> =>
    explainByPerturbation(explainer, image, {
      method: 'occlusion',
      crop: 'full',
      occlusion: { maskSize: 56, stride: 56 },
      ...(onProgress ? { onProgress } : {}),
    });
  beforeAll(async () => {
    explainer = await mirrorExplainer('wasm');
    image = await readImage(photo('sherlock_golden_retriever.jpg'));
  });
  afterAll(() => explainer.dispose());

  test('occlusion: one cell per patch position, the drop in p(golden retriever), progress in forward passes', async () => {
    // The first batched pass builds (and keeps) the folded weights of the plain forward plan.
    tf.dispose(batchProbabilities(explainer.network, tf.zeros([1, 224, 224, 3])));
    const numBefore = tf.memory().numTensors;
    const progress: [number, number][] = [];
    const occlusion = await occlusionOn4x4((d, t) => progress.push([d, t]));
    expect(occlusion.target.label).toBe('golden retriever');
    expect(occlusion.heatmap).toMatchObject({ width: 4, height: 4 });
    expect(progress.at(-1)).toEqual([16, 16]);
    const details = occlusion.details as { drops: Float32Array; maskValue: number[] };
    // The default mask value is the picture's mean colour, in the network's units ([−1, 1]).
    expect(details.maskValue).toHaveLength(3);
    for (const v of details.maskValue) expect(Math.abs(v)).toBeLessThan(1);
    // Hiding the best quarter of the dog costs a good share of the probability; some patches cost nothing.
    expect(Math.max(...details.drops)).toBeGreaterThan(0.1);
    expect(Math.min(...details.drops.map(Math.abs))).toBeLessThan(0.05);
    expect(Math.max(...occlusion.heatmap.data)).toBe(1);
    expect(tf.memory().numTensors).toBe(numBefore);
  });

  test('LIME on a 4×4 grid agrees with occlusion on the same cells', async () => {
    const lime = await explainByPerturbation(explainer, image, {
      method: 'lime',
      crop: 'full',
      lime: { segmentation: 'grid', numFeatures: 16, numSamples: 160 },
    });
    const details = lime.details as { coefficients: Float64Array; features: number; numSamples: number };
    expect(details.features).toBe(16);
    expect(details.numSamples).toBe(160);
    expect(lime.heatmap).toMatchObject({ width: 224, height: 224 });
    const drops = ((await occlusionOn4x4()).details as { drops: Float32Array }).drops;
    expect(spearman(details.coefficients, drops)).toBeGreaterThan(0.5);
  });

  test('cancelling stops between batches with an AbortError', async () => {
    const controller = new AbortController();
    const run = explainByPerturbation(explainer, image, {
      method: 'lime',
      crop: 'full',
      lime: { segmentation: 'grid', numSamples: 64, batchSize: 8 },
      signal: controller.signal,
      onProgress: () => controller.abort(),
    });
    await expect(run).rejects.toMatchObject({ name: 'AbortError' });
  });
});

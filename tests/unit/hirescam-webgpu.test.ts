import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { Explainer } from '../../src/explain/methods/explainer.js';
import type { ExplainRequest } from '../../src/explain/methods/types.js';
import type { RgbaImage } from '../../src/explain/runtime/input.js';
import { layerCamMap } from '../../src/explain/runtime/kernels/index.js';
import { layerCamReduce } from '../../src/explain/runtime/kernels/reference.js';
import { flipped, readImage } from '../../src/node/image-io.js';
import { mirrorExplainer } from '../helpers/engine.js';
import { photo } from '../helpers/shared.js';
import { maxAbsDiff } from '../helpers/stats.js';

// HiResCAM on tfjs-backend-webgpu under Node (Dawn on SwiftShader's Vulkan, as graph-capture.test.ts):
// the one-workgroup-per-cell channel sum without the ReLU on g against the JavaScript reduction, and
// graph capture's replayed frames against the op-by-op ones.
process.env['VK_DRIVER_FILES'] ??= '/usr/lib/chromium/vk_swiftshader_icd.json';

const REQUESTS: ExplainRequest[] = [
  { method: 'hirescam', layer: 'conv_pw_11_relu' },
  { method: 'hirescam', layer: 'conv_pw_9_relu', reduction: 'softmax', classIndex: 207, contrastClass: 208 },
  { method: 'layercam', layer: 'conv_pw_11_relu' },
];

let explainer: Explainer;
let sherlock: RgbaImage;
let mirrored: RgbaImage;

beforeAll(async () => {
  explainer = await mirrorExplainer('webgpu', 'mobilenet_v1_0.25_224');
  sherlock = await readImage(photo('sherlock_golden_retriever.jpg'));
  mirrored = flipped(sherlock);
}, 120_000);

afterAll(() => explainer?.dispose());

test("WebGPU's channel sum without the ReLU on g equals the JavaScript Σ g · A, and LayerCAM's keeps its ReLU", async () => {
  expect(tf.getBackend()).toBe('webgpu');
  // 200 channels: not a multiple of the 64 invocations per cell, so the strided shares are uneven.
  for (const [h, w, c] of [
    [14, 14, 768],
    [7, 5, 200],
  ] as const) {
    const a = tf.relu(tf.randomNormal([1, h, w, c], 0, 1, 'float32', 21)) as tf.Tensor4D;
    const g = tf.randomNormal([1, h, w, c], 0, 1e-3, 'float32', 22) as tf.Tensor4D;
    const [aValues, gValues] = [(await a.data()) as Float32Array, (await g.data()) as Float32Array];
    const hires = layerCamMap(g, a, false);
    const layer = layerCamMap(g, a);
    const got = (await hires.data()) as Float32Array;
    const gotLayer = (await layer.data()) as Float32Array;
    tf.dispose([a, g, hires, layer]);
    const expected = layerCamReduce(gValues, aValues, c, false);
    const scale = expected.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    expect(got.length).toBe(h * w);
    expect(maxAbsDiff(got, expected) / scale).toBeLessThan(1e-5);
    expect(got.filter((v) => v < 0).length).toBeGreaterThan(0);
    expect(maxAbsDiff(gotLayer, layerCamReduce(gValues, aValues, c)) / scale).toBeLessThan(1e-5);
  }
}, 120_000);

test('a replayed HiResCAM frame equals the op-by-op frame', async () => {
  explainer.useGraphCapture = false;
  const expected = await explainer.explainMany(mirrored, REQUESTS);
  explainer.useGraphCapture = true;
  const first = await explainer.explainMany(sherlock, REQUESTS);
  const replayed = await explainer.explainMany(mirrored, REQUESTS);
  expect(explainer.graphCaptureError).toBeNull();
  for (const [i, r] of replayed.entries()) {
    const e = expected[i]!;
    expect(r.method).toBe(REQUESTS[i]!.method);
    expect(Math.abs(r.target.score - e.target.score)).toBeLessThan(1e-5);
    expect(maxAbsDiff(r.heatmap.data, e.heatmap.data), `${r.method} ${r.layer}`).toBeLessThan(1e-5);
    // The replay used the new picture.
    expect(maxAbsDiff(r.heatmap.data, first[i]!.heatmap.data)).toBeGreaterThan(0.05);
  }
  // HiResCAM and LayerCAM at the same layer and class: the same kernel, with and without the ReLU on g.
  expect(maxAbsDiff(replayed[0]!.heatmap.data, replayed[2]!.heatmap.data)).toBeGreaterThan(0.05);
}, 600_000);

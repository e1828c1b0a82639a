import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, test } from 'vitest';
import { normalizeHeatmapInPlace } from '../../src/explain/methods/heatmap.js';
import { toInputTensor, toRgbTensor } from '../../src/explain/runtime/input.js';
import {
  gradCamPlusPlusWeights,
  layerCamMap,
  relu6Backward,
  sampleFrame,
  topOneHot,
} from '../../src/explain/runtime/kernels/index.js';
import { normalizeMap } from '../../src/explain/methods/methods.js';
import { cropRegion, inputSampling, preprocess } from '../../src/explain/runtime/preprocess.js';
import { argMax, softmax, topIndices } from '../../src/explain/methods/scores.js';
import type { RgbaImage } from '../../src/explain/runtime/input.js';
import { type NodeBackend, useNodeBackend } from '../../src/node/backend.js';
import { readImage } from '../../src/node/image-io.js';
import { photo } from '../helpers/shared.js';
import { maxAbsDiff } from '../helpers/stats.js';

// WhyCam's own kernels (src/explain/runtime/kernels) against the tfjs ops they replace, on real data.
// The WebGPU and WebGL programs are checked against the cpu backend in tests/e2e/backends.spec.ts.

let medium: RgbaImage;
let small: RgbaImage;
beforeAll(async () => {
  await useNodeBackend('cpu');
  const sherlock = await readImage(photo('sherlock_golden_retriever.jpg'));
  const image = tf.tensor3d(new Uint8Array(sherlock.data), [sherlock.height, sherlock.width, 4], 'int32');
  // Pictures that shrink by at most 2× (bilinear; larger shrinks are area-averaged: antialias.test.ts)…
  const shrunk = tf.cast(tf.image.resizeNearestNeighbor(image, [300, 420]), 'int32');
  medium = { width: 420, height: 300, data: new Uint8Array(await shrunk.data()) };
  // …and one smaller than the input, so that the resize enlarges (samples clamp at the crop's edges).
  const resized = tf.cast(
    tf.image.resizeNearestNeighbor(tf.slice(image, [100, 200, 0], [300, 300, 4]), [150, 170]),
    'int32',
  );
  small = { width: 170, height: 150, data: new Uint8Array(await resized.data()) };
  tf.dispose([image, shrunk, resized]);
});

/** What the input was before the kernel: the crop, tfjs's resizeBilinear with half-pixel centres, scaled. */
async function oldInput(image: RgbaImage, crop: 'center' | 'full'): Promise<Float32Array> {
  const region = cropRegion(image.width, image.height, [224, 224], crop);
  const rgb = await toRgbTensor(image, region);
  const x = tf.tidy(() => tf.sub(tf.div(tf.image.resizeBilinear(rgb, [224, 224], false, true), 127.5), 1));
  const data = (await x.data()) as Float32Array;
  tf.dispose([rgb, x]);
  return data;
}

describe.each<NodeBackend>(['cpu', 'wasm'])('on %s', (backend) => {
  beforeAll(async () => {
    await useNodeBackend(backend);
  });

  test.each([
    ['medium', 'center'],
    ['medium', 'full'],
    ['small', 'center'],
    ['small', 'full'],
  ] as const)(
    'the frame → input kernel gives what crop, resizeBilinear and scaling gave (%s, %s)',
    async (which, crop) => {
      const image = which === 'medium' ? medium : small;
      const expected = await oldInput(image, crop);
      const region = cropRegion(image.width, image.height, [224, 224], crop);
      // From pixels in memory (resampled in JavaScript), from an RGBA tensor, an RGB tensor and packed words (one kernel each).
      const before = tf.memory().numTensors;
      const fromPixels = await toInputTensor(image, region, [224, 224], [-1, 1]);
      expect(tf.memory().numTensors, 'only the input is left').toBe(before + 1);
      const rgba = tf.tensor3d(new Uint8Array(image.data), [image.height, image.width, 4], 'int32');
      const rgb = tf.slice(rgba, [0, 0, 0], [image.height, image.width, 3]);
      const words = tf.tensor2d(
        new Int32Array(image.data.buffer, image.data.byteOffset, image.width * image.height),
        [image.height, image.width],
        'int32',
      );
      const sampling = inputSampling(region, [224, 224], [-1, 1]);
      const cropped = await toRgbTensor(image, region);
      const outputs = [
        fromPixels,
        preprocess(cropped, [224, 224], [-1, 1]),
        sampleFrame(rgba, sampling),
        sampleFrame(rgb, sampling),
        sampleFrame(words, sampling, true),
      ];
      for (const x of outputs) {
        expect(x.shape).toEqual([1, 224, 224, 3]);
        // Within 1e-4 (1/80 of a grey level): the old path rounded to float32 after each of its ops.
        expect(maxAbsDiff((await x.data()) as Float32Array, expected)).toBeLessThan(1e-4);
      }
      // A real picture, scaled to [-1, 1]: the comparison above is not between two blank inputs.
      expect(expected.reduce((a, b) => Math.max(a, b)) - expected.reduce((a, b) => Math.min(a, b))).toBeGreaterThan(
        1.2,
      );
      tf.dispose([...outputs, cropped, rgba, rgb, words]);
    },
  );

  test('the ReLU6 mask passes the gradient exactly where 0 < y < 6', async () => {
    const y = tf.clipByValue(tf.mul(tf.randomNormal([1, 14, 14, 96], 0, 1, 'float32', 7), 4), 0, 6);
    const dy = tf.randomNormal([1, 14, 14, 96], 0, 1, 'float32', 8);
    const expected = tf.mul(dy, tf.cast(tf.logicalAnd(tf.greater(y, 0), tf.less(y, 6)), 'float32'));
    const before = tf.memory().numTensors;
    const got = relu6Backward(dy, y);
    expect(tf.memory().numTensors).toBe(before + 1);
    // Equal up to the sign of zero (dy · 0 is −0 where dy < 0).
    expect(maxAbsDiff((await got.data()) as Float32Array, (await expected.data()) as Float32Array)).toBe(0);
    // Both bounds are hit: the clip saturates about half of the values.
    const yValues = await y.data();
    expect(yValues.filter((v) => v === 0 || v === 6).length).toBeGreaterThan(1000);
    expect(yValues.filter((v) => v > 0 && v < 6).length).toBeGreaterThan(1000);
    tf.dispose([y, dy, expected, got]);
  });

  test("LayerCAM's channel reduction equals sum(relu(g) · A) over channels", async () => {
    const a = tf.relu(tf.randomNormal([1, 14, 14, 768], 0, 1, 'float32', 1)) as tf.Tensor4D;
    const g = tf.randomNormal([1, 14, 14, 768], 0, 1e-3, 'float32', 2) as tf.Tensor4D;
    const expected = tf.sum(tf.mul(tf.relu(g), a), [0, 3]);
    const got = layerCamMap(g, a);
    expect(got.shape).toEqual([14, 14]);
    const scale = Math.max(...(await expected.data()));
    expect(
      maxAbsDiff((await got.data()) as Float32Array, (await expected.data()) as Float32Array) / scale,
    ).toBeLessThan(1e-5);
    tf.dispose([a, g, expected, got]);
  });

  test("Grad-CAM++'s weights equal the closed form built from tfjs ops", async () => {
    const a = tf.relu(tf.randomNormal([1, 7, 7, 768], 0, 1, 'float32', 4)) as tf.Tensor4D;
    const g = tf.randomNormal([1, 7, 7, 768], 0, 1e-2, 'float32', 5) as tf.Tensor4D;
    const expected = tf.tidy(() => {
      const g2 = tf.square(g);
      const alpha = tf.divNoNan(g2, tf.add(tf.mul(g2, 2), tf.mul(tf.sum(a, [1, 2], true), tf.mul(g2, g))));
      return tf.sum(tf.mul(alpha, tf.relu(g)), [0, 1, 2]);
    });
    const got = gradCamPlusPlusWeights(g, a);
    expect(got.shape).toEqual([768]);
    const scale = ((await expected.data()) as Float32Array).reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    expect(scale).toBeGreaterThan(0);
    expect(
      maxAbsDiff((await got.data()) as Float32Array, (await expected.data()) as Float32Array) / scale,
    ).toBeLessThan(1e-5);
    tf.dispose([a, g, expected, got]);
  });

  test('the top one-hot marks the first highest score, like oneHot(argMax)', async () => {
    const logits = tf.tensor2d([[0.5, 3, -1, 3, 2]]);
    const random = tf.randomNormal([1, 1000], 0, 3, 'float32', 3) as tf.Tensor2D;
    const expected = tf.oneHot(tf.argMax(random, 1), 1000);
    const [ties, got] = [topOneHot(logits), topOneHot(random)];
    expect(Array.from(await ties.data())).toEqual([0, 1, 0, 0, 0]);
    expect(Array.from(await got.data())).toEqual(Array.from(await expected.data()));
    tf.dispose([logits, random, expected, ties, got]);
  });
});

test("softmax, top-k and the map normalisation on the CPU agree with tf.softmax, tf.topk and the device's normalisation", async () => {
  await useNodeBackend('cpu');
  const logits = tf.randomNormal([1, 1000], 0, 4, 'float32', 5) as tf.Tensor2D;
  const values = (await logits.data()) as Float32Array;
  const probs = softmax(values);
  const top = tf.topk(tf.softmax(logits), 5);
  expect(topIndices(probs, 5)).toEqual(Array.from(await top.indices.data()));
  expect(
    maxAbsDiff(
      topIndices(probs, 5).map((i) => probs[i]!),
      Array.from(await top.values.data()),
    ),
  ).toBeLessThan(1e-7);
  expect(argMax(values)).toBe(topIndices(values, 1)[0]);
  expect(topIndices([1, 5, 5, 2], 3)).toEqual([1, 2, 3]);

  const map = tf.randomNormal([14, 14], 0, 1, 'float32', 6) as tf.Tensor2D;
  const expected = (await normalizeMap(map).data()) as Float32Array;
  expect(maxAbsDiff(normalizeHeatmapInPlace((await map.data()) as Float32Array), expected)).toBeLessThan(1e-6);
  expect(Array.from(normalizeHeatmapInPlace(new Float32Array([-1, -2, -3])))).toEqual([0, 0, 0]);
  tf.dispose([logits, top.values, top.indices, map]);
});

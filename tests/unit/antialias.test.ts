import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, test } from 'vitest';
import { type RgbaImage, toInputTensor } from '../../src/explain/runtime/input.js';
import { sampleFrame } from '../../src/explain/runtime/kernels/index.js';
import { cropRegion, inputSampling, preprocess, type Region } from '../../src/explain/runtime/preprocess.js';
import { type NodeBackend, useNodeBackend } from '../../src/node/backend.js';
import { readImage } from '../../src/node/image-io.js';
import { photo } from '../helpers/shared.js';
import { referenceInput } from '../helpers/resize-reference.js';
import { maxAbsDiff } from '../helpers/stats.js';

// A picture shrunk to the network's input by more than 2× along an axis is area-averaged along it
// (bilinear sampling would skip most pixels and alias), by the one input kernel on every backend:
// checked against an independent plain-JS area filter. WebGPU runs on Dawn with SwiftShader, as in
// graph-capture.test.ts; WebGL's program is compared with the CPU in tests/e2e/backends.spec.ts.
process.env['VK_DRIVER_FILES'] ??= '/usr/lib/chromium/vk_swiftshader_icd.json';

const SIZE: [number, number] = [224, 224];
const RANGE: [number, number] = [-1, 1];

const CASES = [
  // [picture, region, what the axes do]
  ['sherlock', 'center', 'x and y shrink 2.86×: area both ways'],
  ['sherlock', 'full', 'x 4.29×, y 2.86×: area both ways, unequal'],
  ['field', 'center', '6.3×, as a big photo'],
  ['sherlock', 'wide band', 'x 4.29× (area), y 1.34× (bilinear)'],
  ['sherlock', 'tall band', 'x 1.34× (bilinear), y 2.86× (area)'],
] as const;

/** Each case's picture, region and reference input, made once (on the cpu backend). */
const references = new Map<string, { image: RgbaImage; region: Region; expected: Float32Array }>();
beforeAll(async () => {
  await useNodeBackend('cpu');
  const sherlock = await readImage(photo('sherlock_golden_retriever.jpg')); // 960×640
  const field = await readImage(photo('golden_retriever_field.jpg')); // 2119×1415
  for (const [which, crop] of CASES) {
    const image = which === 'sherlock' ? sherlock : field;
    const region =
      crop === 'wide band'
        ? { x: 0, y: 170, width: 960, height: 300 }
        : crop === 'tall band'
          ? { x: 330, y: 0, width: 300, height: 640 }
          : cropRegion(image.width, image.height, SIZE, crop);
    const expected = await referenceInput(image, region, SIZE, RANGE);
    // Not a reference that plain bilinear sampling would match: the two differ visibly.
    expect(maxAbsDiff(await bilinear(image, region), expected), `${which} ${crop}`).toBeGreaterThan(0.1);
    references.set(`${which} ${crop}`, { image, region, expected });
  }
}, 120_000);

/** Random bytes (alpha 255), so that every source pixel matters. */
function noise(width: number, height: number, seed: number): RgbaImage {
  const data = new Uint8Array(width * height * 4);
  let s = seed;
  for (let i = 0; i < data.length; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    data[i] = i % 4 === 3 ? 255 : s >>> 24;
  }
  return { width, height, data };
}

/** The four ways a frame becomes the input: pixels in memory, an RGBA and an RGB tensor, packed RGBA words. */
async function everyPath(image: RgbaImage, region: Region, backend: NodeBackend): Promise<[string, Float32Array][]> {
  const sampling = inputSampling(region, SIZE, RANGE);
  const rgba = tf.tensor3d(new Int32Array(image.data), [image.height, image.width, 4], 'int32');
  const rgb = tf.slice(rgba, [0, 0, 0], [image.height, image.width, 3]);
  const words = tf.tensor2d(new Int32Array(image.data.buffer, image.data.byteOffset, image.width * image.height), [
    image.height,
    image.width,
  ]);
  const crop = tf.slice(rgb, [region.y, region.x, 0], [region.height, region.width, 3]);
  const outputs: [string, tf.Tensor][] = [
    ['pixels', await toInputTensor(image, region, SIZE, RANGE)],
    ['rgba tensor', sampleFrame(rgba, sampling)],
    ['rgb tensor', sampleFrame(rgb, sampling)],
    ['packed words', sampleFrame(words, sampling, true)],
    ['preprocess', preprocess(crop as tf.Tensor3D, SIZE, RANGE)],
  ];
  const result: [string, Float32Array][] = [];
  for (const [name, x] of outputs) {
    expect(x.shape, `${backend} ${name}`).toEqual([1, ...SIZE, 3]);
    result.push([name, (await x.data()) as Float32Array]);
  }
  tf.dispose([rgba, rgb, words, crop, ...outputs.map(([, x]) => x)]);
  return result;
}

/** What plain bilinear sampling gave before (tfjs's resizeBilinear on the crop, half-pixel centres). */
async function bilinear(image: RgbaImage, region: Region): Promise<Float32Array> {
  const x = tf.tidy(() => {
    const all = tf.tensor3d(new Int32Array(image.data), [image.height, image.width, 4], 'int32');
    const crop = tf.cast(tf.slice(all, [region.y, region.x, 0], [region.height, region.width, 3]), 'float32');
    return tf.sub(tf.div(tf.image.resizeBilinear(crop as tf.Tensor3D, SIZE, false, true), 127.5), 1);
  });
  const data = (await x.data()) as Float32Array;
  x.dispose();
  return data;
}

describe.each<NodeBackend>(['cpu', 'wasm', 'webgpu'])('on %s', (backend) => {
  beforeAll(async () => {
    await useNodeBackend(backend);
  }, 120_000);

  test.each(CASES)('%s, %s (%s): every input path equals the area reference', async (which, crop) => {
    const { image, region, expected } = references.get(`${which} ${crop}`)!;
    for (const [name, got] of await everyPath(image, region, backend)) {
      // Within 1e-4 of [-1, 1] (1/80 of a grey level): float32 sums of up to 64 weighted taps.
      expect(maxAbsDiff(got, expected), `${backend} ${name}`).toBeLessThan(1e-4);
    }
  });

  test('at whole factors each output pixel is the mean of its block; at exactly 2× bilinear and area agree', async () => {
    for (const factor of [2, 3, 5]) {
      const image = noise(224 * factor, 224 * factor, factor);
      const expected = new Float32Array(224 * 224 * 3);
      for (let r = 0; r < 224; r++) {
        for (let c = 0; c < 224; c++) {
          for (let k = 0; k < 3; k++) {
            let sum = 0;
            for (let y = r * factor; y < (r + 1) * factor; y++) {
              for (let x = c * factor; x < (c + 1) * factor; x++) sum += image.data[(y * image.width + x) * 4 + k]!;
            }
            expected[(r * 224 + c) * 3 + k] = sum / (factor * factor) / 127.5 - 1;
          }
        }
      }
      const region = cropRegion(image.width, image.height, SIZE, 'full');
      for (const [name, got] of await everyPath(image, region, backend)) {
        expect(maxAbsDiff(got, expected), `${backend} ${name} ${factor}×`).toBeLessThan(1e-4);
      }
    }
  });

  test('one-pixel stripes shrunk 6.7× come out grey, not as the false pattern bilinear sampling makes', async () => {
    const n = 1500;
    const data = new Uint8Array(n * n * 4);
    for (let i = 0; i < n * n; i++) data.fill(i % 2 === 0 ? 255 : 0, i * 4, i * 4 + 3).fill(255, i * 4 + 3, i * 4 + 4);
    const image = { width: n, height: n, data };
    const region = cropRegion(n, n, SIZE, 'center');
    const x = await toInputTensor(image, region, SIZE, RANGE);
    const got = (await x.data()) as Float32Array;
    x.dispose();
    // Each output covers 6.7 columns, about half of them white: grey ± one column's share (0.15).
    expect(got.reduce((m, v) => Math.max(m, Math.abs(v)), 0)).toBeLessThan(0.16);
    expect(maxAbsDiff(await bilinear(image, region), new Float32Array(got.length))).toBeGreaterThan(0.5);
  });
});

import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, test } from 'vitest';
import { Explainer } from '../../src/explain/methods/explainer.js';
import { upsampleHeatmap } from '../../src/explain/methods/heatmap.js';
import { LabelSet } from '../../src/explain/network/labels.js';
import { METHODS } from '../../src/explain/methods/names.js';
import { importKeras } from '../../src/explain/models/importers/keras.js';

// A network whose correct maps are known by construction: its feature map is the picture's red
// and green channels, and class "red" / "green" is the mean of one of them. Every method must
// return exactly the red (or green) pixels, and the map must land on those pixels in the source.

const RED = { rows: [1, 3], cols: [1, 3] };
const GREEN = { rows: [4, 6], cols: [4, 7] };

function colourModel(): tfl.LayersModel {
  const input = tfl.input({ shape: [8, 8, 3] });
  const features = tfl.layers
    .conv2d({
      filters: 2,
      kernelSize: 1,
      useBias: false,
      activation: 'relu',
      name: 'colours',
      weights: [tf.tensor4d([1, 0, 0, 1, 0, 0], [1, 1, 3, 2])],
    })
    .apply(input) as tfl.SymbolicTensor;
  const pooled = tfl.layers.globalAveragePooling2d({}).apply(features) as tfl.SymbolicTensor;
  const scores = tfl.layers
    .dense({ units: 2, useBias: false, name: 'scores', weights: [tf.tensor2d([1, 0, 0, 1], [2, 2])] })
    .apply(pooled) as tfl.SymbolicTensor;
  const probs = tfl.layers.activation({ activation: 'softmax' }).apply(scores) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: probs });
}

/** An 8-row × `width`-column picture, the squares drawn `offset` columns in. */
function picture(
  width: number,
  offset: number,
): { image: tf.Tensor3D; red: (x: number, y: number) => boolean; green: (x: number, y: number) => boolean } {
  const inside = (s: typeof RED) => (x: number, y: number) =>
    y >= s.rows[0]! && y <= s.rows[1]! && x - offset >= s.cols[0]! && x - offset <= s.cols[1]!;
  const red = inside(RED);
  const green = inside(GREEN);
  const data = new Int32Array(8 * width * 3);
  for (let y = 0; y < 8; y++) {
    for (let x = 0; x < width; x++) {
      data[(y * width + x) * 3] = red(x, y) ? 255 : 0;
      data[(y * width + x) * 3 + 1] = green(x, y) ? 255 : 0;
    }
  }
  return { image: tf.tensor3d(data, [8, width, 3], 'int32'), red, green };
}

let explainer: Explainer;

beforeAll(async () => {
  await tf.setBackend('cpu');
  explainer = new Explainer(importKeras(colourModel()), {
    labels: new LabelSet(['red', 'green']),
    inputSize: [8, 8],
    inputRange: [0, 1],
  });
});

describe('a network whose maps are known', () => {
  test('has one feature layer, where CAM is defined', () => {
    expect(explainer.featureLayers.map((l) => l.name)).toEqual(['colours']);
    expect(explainer.camLayer).toBe('colours');
  });

  test.each(
    METHODS.flatMap(
      (m) =>
        [
          [m, 'logit'],
          [m, 'softmax'],
        ] as const,
    ),
  )('%s (%s) marks exactly the pixels of the explained class', async (method, reduction) => {
    const { image, red, green } = picture(8, 0);
    for (const [classIndex, truth] of [
      [0, red],
      [1, green],
    ] as const) {
      const r = await explainer.explain(image, { method, reduction, classIndex, crop: 'full' });
      expect(r.target.label).toBe(classIndex === 0 ? 'red' : 'green');
      const expected = Array.from({ length: 64 }, (_, i) => (truth(i % 8, Math.floor(i / 8)) ? 1 : 0));
      expect(Array.from(r.heatmap.data, (v) => Math.round(v * 1e5) / 1e5)).toEqual(expected);
    }
    image.dispose();
  });

  test('with a centre crop of a wider picture, the map lands on the source pixels of the square', async () => {
    // 12 columns: the centre crop keeps columns 2..9, where the squares are drawn.
    const { image, red } = picture(12, 2);
    const r = await explainer.explain(image, { method: 'gradcam', classIndex: 0, crop: 'center' });
    expect(r.region).toEqual({ x: 2, y: 0, width: 8, height: 8 });
    const onSource = upsampleHeatmap(r.heatmap, r.region, 12, 8);
    for (let y = 0; y < 8; y++) {
      for (let x = 0; x < 12; x++) expect(onSource[y * 12 + x], `pixel ${x},${y}`).toBeCloseTo(red(x, y) ? 1 : 0, 5);
    }
    image.dispose();
  });

  test('the top-1 class is explained when none is pinned', async () => {
    const { image } = picture(8, 0);
    const r = await explainer.explain(image, { method: 'cam', crop: 'full' });
    // 12 green pixels against 9 red ones: green wins.
    expect(r.predictions.map((p) => p.label)).toEqual(['green', 'red']);
    expect(r.target.classIndex).toBe(1);
    image.dispose();
  });
});

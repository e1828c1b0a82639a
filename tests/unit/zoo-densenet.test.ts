import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import type * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Explainer } from '../../src/explain/methods/explainer.js';
import { normalizeHeatmapInPlace } from '../../src/explain/methods/heatmap.js';
import { gradCam } from '../../src/explain/methods/methods.js';
import { toInputTensor } from '../../src/explain/runtime/input.js';
import { cropRegion } from '../../src/explain/runtime/preprocess.js';
import { readImage } from '../../src/node/image-io.js';
import { mirrorExplainer } from '../helpers/engine.js';
import { kerasSource } from '../helpers/keras-source.js';
import { photo, SHARED } from '../helpers/shared.js';
import { maxAbsDiff } from '../helpers/stats.js';

// DenseNet-121 (Keras Applications weights as a TF.js LayersModel: 428 layers, 58 concatenations)
// through the engine's Keras importer, against tfjs-layers running the same model itself.

let explainer: Explainer;
let model: tfl.LayersModel;
beforeAll(async () => {
  // tfjs' own kernel leak check misfires on WASM's fused convolution while tf.grad records it
  // (the reference below); the engine's leaks are checked with tf.memory() elsewhere.
  tf.env().set('IS_TEST', false);
  explainer = await mirrorExplainer('wasm', 'densenet121');
  model = kerasSource(explainer.network);
}, 120_000);
afterAll(() => {
  explainer.dispose();
  tf.env().set('IS_TEST', true);
});

const MEAN = [0.485, 0.456, 0.406];
const STD = [0.229, 0.224, 0.225];
const PICTURES = [
  photo('sherlock_golden_retriever.jpg'),
  `${SHARED}/images/imagenet-samples/n02105855_Shetland_sheepdog.jpg`,
  photo('samoyed.jpg'),
];

/** The engine's input for the whole picture, in [0, 1], and the same normalised by hand as Keras' DenseNet wants it. */
async function inputs(file: string): Promise<{ image: Awaited<ReturnType<typeof readImage>>; x: tf.Tensor4D }> {
  const image = await readImage(file);
  const region = cropRegion(image.width, image.height, explainer.inputSize, 'full');
  const unit = await toInputTensor(image, region, explainer.inputSize, explainer.inputRange);
  const x = tf.tidy(() => tf.div(tf.sub(unit, tf.tensor1d(MEAN)), tf.tensor1d(STD)) as tf.Tensor4D);
  unit.dispose();
  return { image, x };
}

/** Runs the layers after `from` eagerly with tfjs-layers (each its own `apply`), the logits without the softmax. */
function logitsFrom(from: string, a: tf.Tensor): tf.Tensor1D {
  const values = new Map<string, tf.Tensor>([[from, a]]);
  const names = model.layers.map((l) => l.name);
  for (const layer of model.layers.slice(names.indexOf(from) + 1)) {
    const ins = layer.inboundNodes[0]!.inboundLayers.map((l) => values.get(l.name)!);
    if (layer.name === 'fc1000') {
      const [kernel, bias] = layer.getWeights();
      return tf.reshape(tf.add(tf.matMul(ins[0] as tf.Tensor2D, kernel as tf.Tensor2D), bias!), [-1]) as tf.Tensor1D;
    }
    values.set(layer.name, layer.apply(ins.length === 1 ? ins[0]! : ins) as tf.Tensor);
  }
  throw new Error('no fc1000');
}

/** The layers up to `layer`, run by tfjs-layers. */
function activationsAt(layer: string, x: tf.Tensor4D): tf.Tensor4D {
  const values = new Map<string, tf.Tensor>([[model.layers[0]!.name, x]]);
  for (const l of model.layers.slice(1)) {
    const ins = l.inboundNodes[0]!.inboundLayers.map((i) => values.get(i.name)!);
    values.set(l.name, l.apply(ins.length === 1 ? ins[0]! : ins) as tf.Tensor);
    if (l.name === layer) return values.get(layer) as tf.Tensor4D;
  }
  throw new Error(`no ${layer}`);
}

describe('DenseNet-121', () => {
  test('is analysed: the feature layer is bn (7×7×1024), CAM applies there, logits at fc1000', () => {
    expect(explainer.lastConvLayer).toBe('bn');
    expect(explainer.camLayer).toBe('bn');
    expect(explainer.network.logits).toBe('fc1000');
    expect(explainer.network.softmax).toBe('fc1000/softmax');
    expect(explainer.featureLayers.find((l) => l.name === 'bn')).toEqual({
      name: 'bn',
      height: 7,
      width: 7,
      channels: 1024,
    });
    // Every concatenation output is a cut point: the network can be explained at any dense layer.
    expect(explainer.featureLayers.some((l) => l.name === 'conv4_block24_concat')).toBe(true);
  });

  test.each(PICTURES)(
    '%s: the top-5 and their probabilities equal tfjs-layers’ own predict',
    async (file) => {
      const { image, x } = await inputs(file);
      const r = await explainer.explain(image, { method: 'gradcam', crop: 'full', topK: 5 });
      const reference = tf.tidy(() => model.predict(x) as tf.Tensor2D);
      const probs = (await reference.data()) as Float32Array;
      reference.dispose();
      x.dispose();
      const top = [...probs.keys()].sort((a, b) => probs[b]! - probs[a]!).slice(0, 5);
      expect(r.predictions.map((p) => p.classIndex)).toEqual(top);
      for (const p of r.predictions) expect(Math.abs(p.score - probs[p.classIndex]!)).toBeLessThan(1e-4);
    },
    60_000,
  );

  // Deeper layers cost minutes on the cpu backend's tf.grad; the pooling and concatenation ops
  // they add are checked against tf.grad one by one in pooling-ops.test.ts.
  test.each(['bn', 'conv5_block8_concat'])(
    'Grad-CAM at %s equals the map of tf.grad through tfjs-layers (within 1e-4)',
    async (layer) => {
      const { image, x } = await inputs(photo('sherlock_golden_retriever.jpg'));
      const r = await explainer.explain(image, { method: 'gradcam', layer, crop: 'full' });
      const cls = r.target.classIndex;
      // The activations by tfjs-layers on WASM, as the engine's; the gradient by tf.grad on the cpu
      // backend (WASM has no gradient kernels for convolutions; tfjs moves the tensors by itself).
      const a = tf.tidy(() => activationsAt(layer, x));
      await tf.setBackend('cpu');
      const map = tf.tidy(() => {
        const oneHot = tf.cast(tf.reshape(tf.oneHot([cls], 1000), [-1]), 'float32');
        const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(logitsFrom(layer, t), oneHot)) as tf.Scalar)(
          a,
        ) as tf.Tensor4D;
        return gradCam(a, g);
      });
      a.dispose();
      x.dispose();
      const reference = normalizeHeatmapInPlace((await map.data()) as Float32Array);
      map.dispose();
      await tf.setBackend('wasm');
      expect(Math.max(...reference)).toBe(1);
      expect(maxAbsDiff(r.heatmap.data, reference)).toBeLessThan(1e-4);
    },
    120_000,
  );
});

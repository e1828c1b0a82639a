import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Explainer } from '../../src/explain/methods/explainer.js';
import { METHOD_NAMES, METHODS } from '../../src/explain/methods/names.js';
import type { Reduction } from '../../src/explain/methods/names.js';
import { layerCamMap } from '../../src/explain/runtime/kernels/index.js';
import { layerCamReduce } from '../../src/explain/runtime/kernels/reference.js';
import { toInputTensor } from '../../src/explain/runtime/input.js';
import { cropRegion } from '../../src/explain/runtime/preprocess.js';
import type { RgbaImage } from '../../src/explain/runtime/input.js';
import { useNodeBackend } from '../../src/node/backend.js';
import { readImage } from '../../src/node/image-io.js';
import { mirrorExplainer } from '../helpers/engine.js';
import { photo } from '../helpers/shared.js';
import { maxAbsDiff } from '../helpers/stats.js';
import { headAfter } from '../helpers/toy-models.js';
import { kerasSource } from '../helpers/keras-source.js';

// HiResCAM (Draelos & Carin 2020): ReLU(Σ_k g · A) per position. Its channel reduction is LayerCAM's
// kernel without the ReLU on g; here the kernel against tfjs ops on cpu and wasm, and the engine's
// maps against tf.grad through tfjs-layers' own layers (MobileNet's real weights), with the class
// logit, its softmax and a contrast. WebGPU (kernel and graph capture): hirescam-webgpu.test.ts.

const BULL_MASTIFF = 243;
const TIGER_CAT = 282;

test('HiResCAM is a method, named as in the paper', () => {
  expect(METHODS).toContain('hirescam');
  expect(METHOD_NAMES.hirescam).toBe('HiResCAM');
});

test("the reference reduction keeps negative gradients, LayerCAM's drops them", () => {
  // Two positions, two channels: g = [[1, −2], [−1, −1]], a = [[3, 1], [2, 4]].
  const g = [1, -2, -1, -1];
  const a = [3, 1, 2, 4];
  expect(Array.from(layerCamReduce(g, a, 2, false))).toEqual([1, -6]);
  expect(Array.from(layerCamReduce(g, a, 2))).toEqual([3, 0]);
});

describe.each(['cpu', 'wasm'] as const)('the channel-sum kernel on %s', (backend) => {
  beforeAll(async () => {
    await useNodeBackend(backend);
  });

  test('with rectify off it equals sum(g · A) over channels, signed, and differs from LayerCAM', async () => {
    const a = tf.relu(tf.randomNormal([1, 14, 14, 768], 0, 1, 'float32', 11)) as tf.Tensor4D;
    const g = tf.randomNormal([1, 14, 14, 768], 0, 1e-3, 'float32', 12) as tf.Tensor4D;
    const expected = (await tf.sum(tf.mul(g, a), [0, 3]).data()) as Float32Array;
    const before = tf.memory().numTensors;
    const got = layerCamMap(g, a, false);
    expect(tf.memory().numTensors).toBe(before + 1);
    expect(got.shape).toEqual([14, 14]);
    const values = (await got.data()) as Float32Array;
    const scale = expected.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    expect(maxAbsDiff(values, expected) / scale).toBeLessThan(1e-5);
    // Zero-mean gradients: about half the sums are negative (kept; the ReLU comes after the sum).
    expect(values.filter((v) => v < 0).length).toBeGreaterThan(50);
    const layer = (await layerCamMap(g, a).data()) as Float32Array;
    expect(maxAbsDiff(values, layer) / scale).toBeGreaterThan(0.5);
    tf.dispose([a, g, got]);
  });
});

describe('HiResCAM against tf.grad on MobileNet V1 0.25 (cpu)', () => {
  let explainer: Explainer;
  let image: RgbaImage;
  beforeAll(async () => {
    explainer = await mirrorExplainer('cpu', 'mobilenet_v1_0.25_224');
    image = await readImage(photo('gradcam_cat_dog.png'));
  });
  afterAll(() => explainer?.dispose());

  /**
   * ReLU(Σ_k g · A), min–max to [0, 1], in float64 JavaScript, with g = tf.grad (w.r.t. the layer's
   * activations, layers run by tfjs-layers) of the class's logit or probability, minus the contrast's.
   * Also LayerCAM's map from the same gradients, to show that the two differ.
   */
  async function reference(
    layer: string,
    classIndex: number,
    contrastClass: number | null,
    reduction: Reduction,
  ): Promise<{ hires: number[]; layer: number[]; negative: number }> {
    const region = cropRegion(image.width, image.height, explainer.inputSize, 'full');
    const x = await toInputTensor(image, region, explainer.inputSize, explainer.inputRange);
    const network = explainer.network;
    const names = kerasSource(network).layers.map((l) => l.name);
    const body = kerasSource(network).layers.slice(1, names.indexOf(layer) + 1);
    const head = headAfter(kerasSource(network), layer, network.logits);
    const [activations, gradients] = tf.tidy(() => {
      const act = body.reduce((t: tf.Tensor, l) => l.apply(t) as tf.Tensor, x);
      const score = (t: tf.Tensor): tf.Scalar => {
        const logits = tf.reshape(head(t), [-1]);
        const s = reduction === 'softmax' ? tf.softmax(logits) : logits;
        const target = tf.gather(s, classIndex);
        return (contrastClass === null ? tf.sum(target) : tf.sub(target, tf.gather(s, contrastClass))) as tf.Scalar;
      };
      return [act, tf.grad(score)(act)];
    });
    const c = activations.shape[3]!;
    const a = await activations.data();
    const g = await gradients.data();
    tf.dispose([x, activations, gradients]);
    const positions = a.length / c;
    const hires: number[] = [];
    const layerCam: number[] = [];
    let negative = 0;
    for (let p = 0; p < positions; p++) {
      let sum = 0;
      let rectified = 0;
      for (let k = 0; k < c; k++) {
        const i = p * c + k;
        sum += g[i]! * a[i]!;
        if (g[i]! > 0) rectified += g[i]! * a[i]!;
      }
      if (sum < 0) negative++;
      hires.push(Math.max(0, sum));
      layerCam.push(rectified);
    }
    const scaled = (m: number[]): number[] => {
      const lo = Math.min(...m);
      const hi = Math.max(...m);
      return m.map((v) => (hi > lo ? (v - lo) / (hi - lo) : 0));
    };
    return { hires: scaled(hires), layer: scaled(layerCam), negative };
  }

  test.each([
    ['conv_pw_11_relu', BULL_MASTIFF, null, 'logit'],
    ['conv_pw_9_relu', BULL_MASTIFF, null, 'logit'],
    ['conv_pw_11_relu', TIGER_CAT, null, 'softmax'],
    ['conv_pw_11_relu', BULL_MASTIFF, TIGER_CAT, 'logit'],
    ['conv_pw_9_relu', TIGER_CAT, BULL_MASTIFF, 'softmax'],
  ] as const)(
    'at %s, class %i, contrast %s, %s: the engine equals ReLU(Σ g · A) within 1e-4',
    async (layer, classIndex, contrastClass, reduction) => {
      const r = await explainer.explain(image, {
        method: 'hirescam',
        layer,
        classIndex,
        contrastClass,
        reduction,
        crop: 'full',
      });
      expect(r).toMatchObject({ method: 'hirescam', layer, reduction });
      const ref = await reference(layer, classIndex, contrastClass, reduction);
      expect(r.heatmap.data.length).toBe(ref.hires.length);
      expect(Math.max(...ref.hires)).toBe(1); // a flat reference would make the comparison empty
      expect(maxAbsDiff(r.heatmap.data, ref.hires)).toBeLessThan(1e-4);
      // Not LayerCAM under another name: some positions' sums are negative (zero here, not there).
      expect(ref.negative).toBeGreaterThan(0);
      expect(maxAbsDiff(r.heatmap.data, ref.layer)).toBeGreaterThan(0.05);
    },
  );

  test('in one frame with the other methods, HiResCAM shares their backward pass and keeps its own map', async () => {
    const requests = [
      { method: 'layercam', layer: 'conv_pw_11_relu' },
      { method: 'hirescam', layer: 'conv_pw_11_relu' },
      { method: 'gradcam', layer: 'conv_pw_11_relu' },
      { method: 'hirescam', layer: 'conv_pw_9_relu', contrastClass: TIGER_CAT },
    ] as const;
    const many = await explainer.explainMany(
      image,
      requests.map((q) => ({ ...q, classIndex: BULL_MASTIFF })),
      { crop: 'full' },
    );
    for (const [i, q] of requests.entries()) {
      const one = await explainer.explain(image, { ...q, classIndex: BULL_MASTIFF, crop: 'full' });
      expect(many[i]!.method).toBe(q.method);
      expect(maxAbsDiff(many[i]!.heatmap.data, one.heatmap.data)).toBeLessThan(1e-6);
    }
    expect(maxAbsDiff(many[0]!.heatmap.data, many[1]!.heatmap.data)).toBeGreaterThan(0.05);
  });
});

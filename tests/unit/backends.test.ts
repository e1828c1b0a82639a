import * as tf from '@tensorflow/tfjs-core';
import { expect, test } from 'vitest';
import type { Explainer } from '../../src/explain/methods/explainer.js';
import type { Explanation, ExplainRequest } from '../../src/explain/methods/types.js';
import { toInputTensor } from '../../src/explain/runtime/input.js';
import { cropRegion } from '../../src/explain/runtime/preprocess.js';
import { readImage } from '../../src/node/image-io.js';
import { mirrorExplainer } from '../helpers/engine.js';
import { photo } from '../helpers/shared.js';
import { maxAbsDiff } from '../helpers/stats.js';

// WASM computes the network with its own kernels (XNNPACK convolutions, depthwise convolutions and
// matrix products in WebAssembly), where the cpu backend runs tfjs's JavaScript ones. WhyCam's own
// kernels (kernels/reference.ts) are the same JavaScript on both, so comparing only the final,
// normalised maps would mostly compare those: the raw activations and gradients the two backends'
// convolutions give are compared too, unnormalised (a gradient off by a factor has the same map).

/** The kernels that carry the network's forward and backward passes on WASM. */
const NATIVE = ['FusedConv2D', 'FusedDepthwiseConv2D', 'Conv2D', 'DepthwiseConv2dNative', '_FusedMatMul'];
const LAYERS = ['conv_pw_11_relu', 'conv_pw_13_relu'];

const REQUESTS: ExplainRequest[] = [
  { method: 'cam' },
  { method: 'gradcam' },
  { method: 'gradcam', reduction: 'softmax' },
  { method: 'gradcam++' },
  { method: 'layercam' },
  { method: 'gradcam', layer: 'conv_pw_11_relu' },
  { method: 'gradcam++', layer: 'conv_pw_11_relu' },
  { method: 'layercam', layer: 'conv_pw_11_relu' },
];

interface Run {
  maps: Explanation[];
  /** Logits, then for each of LAYERS its activations and the gradient of `classIndex`'s logit, raw. */
  raw: { what: string; data: Float32Array }[];
  /** Kernels the explanation dispatched. */
  kernels: string[];
}

/** The network's own tensors: forward to the logits, backward from one class's logit to LAYERS. */
async function rawPass(explainer: Explainer, image: Awaited<ReturnType<typeof readImage>>, classIndex: number) {
  const region = cropRegion(image.width, image.height, explainer.inputSize, 'full');
  const x = await toInputTensor(image, region, explainer.inputSize, explainer.inputRange);
  const network = explainer.network;
  const tensors = tf.tidy(() => {
    const plan = network.plan(LAYERS);
    const values = network.forward(plan, x, LAYERS);
    const seed = tf.cast(tf.oneHot(tf.tensor1d([classIndex], 'int32'), network.numClasses), 'float32');
    const grads = network.backward(plan, values, seed, LAYERS);
    return [values.get(plan.logits)!, ...LAYERS.flatMap((l) => [values.get(l)!, grads.get(l)!])];
  });
  x.dispose();
  const data = await Promise.all(tensors.map(async (t) => (await t.data()) as Float32Array));
  tf.dispose(tensors);
  return [
    { what: 'logits', data: data[0]! },
    ...LAYERS.flatMap((l, i) => [
      { what: `${l} activations`, data: data[1 + 2 * i]! },
      { what: `${l} gradient`, data: data[2 + 2 * i]! },
    ]),
  ];
}

async function run(backend: 'cpu' | 'wasm', file: string, classIndex: number): Promise<Run> {
  const explainer = await mirrorExplainer(backend);
  try {
    const image = await readImage(photo(file));
    let maps: Explanation[] = [];
    const { kernelNames } = await tf.profile(async () => {
      maps = await explainer.explainMany(image, REQUESTS, { crop: 'full' });
    });
    return { maps, raw: await rawPass(explainer, image, classIndex), kernels: kernelNames };
  } finally {
    explainer.dispose();
  }
}

test.each([
  ['sherlock_golden_retriever.jpg', 207],
  ['brown_bear.jpg', 294],
])(
  "WASM's own kernels match the cpu backend's within 1e-4 on %s: raw activations and gradients, and the maps",
  async (file, classIndex) => {
    const cpu = await run('cpu', file, classIndex);
    const wasm = await run('wasm', file, classIndex);

    // What is compared really differs between the backends: the convolutions and matrix products
    // the explanation dispatched are WASM's own kernels, not the cpu backend's JavaScript.
    const native = NATIVE.filter((k) => wasm.kernels.includes(k));
    expect(native).toEqual(expect.arrayContaining(['FusedConv2D', 'FusedDepthwiseConv2D', 'Conv2D']));
    for (const k of native) expect(tf.getKernel(k, 'wasm')!.kernelFunc, k).not.toBe(tf.getKernel(k, 'cpu')!.kernelFunc);

    // The raw tensors, relative to their own scale: a factor or a shifted window shows here.
    for (const [i, reference] of cpu.raw.entries()) {
      const r = wasm.raw[i]!;
      expect(r.data.length, r.what).toBe(reference.data.length);
      const scale = Math.max(...reference.data.map(Math.abs));
      expect(scale, r.what).toBeGreaterThan(0);
      expect(maxAbsDiff(r.data, reference.data) / scale, r.what).toBeLessThan(1e-4);
    }

    for (const [i, reference] of cpu.maps.entries()) {
      const r = wasm.maps[i]!;
      const what = `${r.method} ${r.reduction} ${r.layer}`;
      expect(r.layer).toBe(reference.layer);
      expect(r.heatmap.width, what).toBe(reference.heatmap.width);
      expect(maxAbsDiff(r.heatmap.data, reference.heatmap.data), what).toBeLessThan(1e-4);
      expect(
        r.predictions.map((p) => p.classIndex),
        what,
      ).toEqual(reference.predictions.map((p) => p.classIndex));
      expect(
        maxAbsDiff(
          r.predictions.map((p) => p.score),
          reference.predictions.map((p) => p.score),
        ),
        what,
      ).toBeLessThan(1e-4);
      expect(r.target.classIndex).toBe(reference.target.classIndex);
    }
    expect(cpu.maps[0]!.target.classIndex).toBe(classIndex);
    expect(cpu.maps[5]!.heatmap.width).toBe(14);
  },
);

/**
 * The ONNX importer operation by operation: small graphs written at test time with every
 * operation CNN exports use (tests/helpers/onnx-build.ts, random weights, a real photo), run by
 * WhyCam and by ONNX Runtime Web; Grad-CAM through them against tf.grad through the plain-tfjs
 * interpreter; and the messages for what WhyCam cannot run.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import '@tensorflow/tfjs-backend-cpu';
import * as ort from 'onnxruntime-web';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { isWhyCamError } from '../../src/explain/errors.js';
import type { Explainer } from '../../src/explain/methods/explainer.js';
import { normalizeHeatmapInPlace } from '../../src/explain/methods/heatmap.js';
import { gradCam } from '../../src/explain/methods/methods.js';
import { importOnnx } from '../../src/explain/models/importers/onnx.js';
import { openOnnxModel } from '../../src/explain/models/onnx-model.js';
import { toInputTensor } from '../../src/explain/runtime/input.js';
import { cropRegion } from '../../src/explain/runtime/preprocess.js';
import { useNodeBackend } from '../../src/node/backend.js';
import { readImage } from '../../src/node/image-io.js';
import { type GraphSpec, noise, type NodeSpec, onnxModel, type TensorSpec } from '../helpers/onnx-build.js';
import { onnxReference } from '../helpers/onnx-reference.js';
import { photo } from '../helpers/shared.js';
import { maxAbsDiff } from '../helpers/stats.js';

let seed = 1;
const w = (name: string, dims: number[], scale = 0.3): TensorSpec => ({
  name,
  dims,
  data: noise(
    dims.reduce((a, b) => a * b, 1),
    seed++,
    scale,
  ),
});
const positive = (name: string, dims: number[]): TensorSpec => ({
  name,
  dims,
  data: Array.from(noise(dims[0]!, seed++, 0.4), (v) => 1 + v),
});
const ints = (name: string, data: number[]): TensorSpec => ({ name, dims: [data.length], data, type: 7 });
const scalar = (name: string, v: number): TensorSpec => ({ name, dims: [], data: [v] });

/**
 * Every standard operation the importer lowers, in one 32×32 network: Pad, Conv (bias, groups,
 * dilation, depthwise with a multiplier), BatchNormalization, LeakyRelu, Relu, Clip (ReLU6 and
 * another range), MaxPool (ceil_mode), Sigmoid, HardSigmoid (Keras' and PyTorch's constants),
 * HardSwish, Concat, a squeeze-and-excitation block (GlobalAveragePool, Mul), Add, constants
 * added and multiplied, AveragePool (count_include_pad), Dropout, Identity, the Shape → Gather →
 * Unsqueeze → Concat → Reshape chain, Gemm (transB) and Softmax.
 */
function everyOpGraph(): GraphSpec {
  const nodes: NodeSpec[] = [
    { op: 'Pad', inputs: ['x', 'pads'], outputs: ['padded'], attrs: { mode: 'constant' } },
    {
      op: 'Conv',
      name: 'stem',
      inputs: ['padded', 'stem_w', 'stem_b'],
      outputs: ['stem'],
      attrs: { kernel_shape: [3, 3] },
    },
    {
      op: 'BatchNormalization',
      inputs: ['stem', 'bn_s', 'bn_b', 'bn_m', 'bn_v'],
      outputs: ['bn'],
      attrs: { epsilon: { float: 1e-3 } },
    },
    { op: 'LeakyRelu', inputs: ['bn'], outputs: ['leaky'], attrs: { alpha: { float: 0.1 } } },
    {
      op: 'Conv',
      name: 'grouped',
      inputs: ['leaky', 'g_w'],
      outputs: ['grouped'],
      attrs: { group: 2, pads: [1, 1, 1, 1] },
    },
    { op: 'Relu', inputs: ['grouped'], outputs: ['relu'] },
    {
      op: 'MaxPool',
      inputs: ['relu'],
      outputs: ['pool'],
      attrs: { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], ceil_mode: 1 },
    },
    { op: 'Conv', name: 'branch_a', inputs: ['pool', 'a_w', 'a_b'], outputs: ['a'] },
    { op: 'Sigmoid', inputs: ['a'], outputs: ['a_act'] },
    {
      op: 'Conv',
      name: 'branch_b',
      inputs: ['pool', 'b_w'],
      outputs: ['b'],
      attrs: { dilations: [2, 2], pads: [2, 2, 2, 2] },
    },
    { op: 'HardSigmoid', inputs: ['b'], outputs: ['b_act'], attrs: { alpha: { float: 1 / 6 } } },
    { op: 'Concat', name: 'mixed', inputs: ['a_act', 'b_act'], outputs: ['mixed'], attrs: { axis: 1 } },
    {
      op: 'Conv',
      name: 'depthwise',
      inputs: ['mixed', 'dw_w', 'dw_b'],
      outputs: ['dw'],
      attrs: { group: 8, pads: [1, 1, 1, 1] },
    },
    { op: 'HardSwish', inputs: ['dw'], outputs: ['hswish'] },
    { op: 'GlobalAveragePool', inputs: ['hswish'], outputs: ['se_pool'] },
    { op: 'Conv', name: 'se_reduce', inputs: ['se_pool', 'se1_w', 'se1_b'], outputs: ['se1'] },
    { op: 'Clip', inputs: ['se1', 'zero', 'six'], outputs: ['se1_act'] },
    { op: 'Conv', name: 'se_expand', inputs: ['se1_act', 'se2_w', 'se2_b'], outputs: ['se2'] },
    { op: 'HardSigmoid', inputs: ['se2'], outputs: ['se_gate'] },
    { op: 'Mul', name: 'excite', inputs: ['hswish', 'se_gate'], outputs: ['excited'] },
    { op: 'Add', name: 'residual', inputs: ['excited', 'hswish'], outputs: ['residual'] },
    { op: 'Mul', inputs: ['residual', 'half'], outputs: ['scaled'] },
    { op: 'Add', inputs: ['scaled', 'shift'], outputs: ['shifted'] },
    { op: 'Clip', name: 'hardtanh', inputs: ['shifted', 'minus_one', 'one'], outputs: ['clipped'] },
    {
      op: 'AveragePool',
      inputs: ['clipped'],
      outputs: ['avg'],
      attrs: { kernel_shape: [2, 2], strides: [2, 2], pads: [1, 1, 1, 1], count_include_pad: 1 },
    },
    {
      op: 'AveragePool',
      inputs: ['avg'],
      outputs: ['avg2'],
      attrs: { kernel_shape: [3, 3], strides: [1, 1], pads: [1, 1, 1, 1] },
    },
    { op: 'Dropout', inputs: ['avg2'], outputs: ['dropped'] },
    { op: 'Identity', inputs: ['dropped'], outputs: ['same'] },
    { op: 'GlobalAveragePool', name: 'gap', inputs: ['same'], outputs: ['gap'] },
    { op: 'Shape', inputs: ['gap'], outputs: ['shape'] },
    { op: 'Gather', inputs: ['shape', 'index0'], outputs: ['batch'], attrs: { axis: 0 } },
    { op: 'Unsqueeze', inputs: ['batch', 'axes0'], outputs: ['batch1'] },
    { op: 'Concat', inputs: ['batch1', 'minus_one_i'], outputs: ['target'], attrs: { axis: 0 } },
    { op: 'Reshape', inputs: ['gap', 'target'], outputs: ['flat'] },
    { op: 'Gemm', name: 'classifier', inputs: ['flat', 'fc_w', 'fc_b'], outputs: ['logits'], attrs: { transB: 1 } },
    { op: 'Softmax', inputs: ['logits'], outputs: ['probs'], attrs: { axis: 1 } },
  ];
  const initializers: TensorSpec[] = [
    ints('pads', [0, 0, 1, 1, 0, 0, 1, 1]),
    w('stem_w', [8, 3, 3, 3]),
    w('stem_b', [8], 0.1),
    positive('bn_s', [8]),
    w('bn_b', [8], 0.2),
    w('bn_m', [8], 0.2),
    positive('bn_v', [8]),
    w('g_w', [8, 4, 3, 3]),
    w('a_w', [4, 8, 1, 1]),
    w('a_b', [4], 0.1),
    w('b_w', [4, 8, 3, 3]),
    w('dw_w', [16, 1, 3, 3], 0.5),
    w('dw_b', [16], 0.1),
    w('se1_w', [4, 16, 1, 1]),
    w('se1_b', [4], 0.1),
    w('se2_w', [16, 4, 1, 1]),
    w('se2_b', [16], 0.1),
    scalar('zero', 0),
    scalar('six', 6),
    scalar('half', 0.5),
    { name: 'shift', dims: [1, 16, 1, 1], data: noise(16, seed++, 0.2) },
    scalar('minus_one', -1),
    scalar('one', 1),
    { name: 'index0', dims: [], data: [0], type: 7 },
    ints('axes0', [0]),
    ints('minus_one_i', [-1]),
    w('fc_w', [10, 16], 1),
    w('fc_b', [10], 0.1),
  ];
  return {
    nodes,
    initializers,
    input: { name: 'x', dims: ['batch', 3, 32, 32] },
    output: { name: 'probs', dims: ['batch', 10] },
    // HardSwish is opset 14's.
    opset: 14,
  };
}

/**
 * Weights stored quantized (QDQ: DequantizeLinear of int8 initializers), MatMul, a constant bias
 * Add, Flatten. (A QDQ pair on an activation rounds it in ONNX Runtime and not in WhyCam, which
 * runs activations in float: the int8 MobileNet V2's own pairs are checked in onnx-models.test.ts.)
 */
function qdqGraph(): GraphSpec {
  const q = Array.from(noise(8 * 3 * 3 * 3, seed++, 127), Math.round);
  return {
    nodes: [
      { op: 'DequantizeLinear', inputs: ['wq', 'ws', 'wz'], outputs: ['w'], attrs: { axis: 0 } },
      { op: 'Conv', name: 'conv', inputs: ['x', 'w'], outputs: ['c'], attrs: { strides: [2, 2], pads: [1, 1, 1, 1] } },
      { op: 'Relu', inputs: ['c'], outputs: ['r'] },
      { op: 'GlobalAveragePool', inputs: ['r'], outputs: ['g'] },
      { op: 'Flatten', inputs: ['g'], outputs: ['f'], attrs: { axis: 1 } },
      { op: 'MatMul', name: 'fc', inputs: ['f', 'm'], outputs: ['mm'] },
      { op: 'Add', inputs: ['mm', 'bias'], outputs: ['logits'] },
    ],
    initializers: [
      { name: 'wq', dims: [8, 3, 3, 3], data: q, type: 3 },
      { name: 'ws', dims: [8], data: noise(8, seed++, 0.002).map((v) => 0.004 + v) },
      { name: 'wz', dims: [8], data: new Array(8).fill(0), type: 3 },
      w('m', [8, 5], 1),
      w('bias', [5], 0.5),
    ],
    input: { name: 'x', dims: [1, 3, 32, 32] },
    output: { name: 'logits', dims: [1, 5] },
    opset: 13,
  };
}

const MEAN = [0.485, 0.456, 0.406];
const STD = [0.229, 0.224, 0.225];

async function photoInputs(explainer: Explainer) {
  const image = await readImage(photo('sherlock_golden_retriever.jpg'));
  const region = cropRegion(image.width, image.height, explainer.inputSize, 'full');
  const rgb = await toInputTensor(image, region, explainer.inputSize, explainer.inputRange);
  const nchw = tf.tidy(
    () => tf.transpose(tf.div(tf.sub(rgb, tf.tensor1d(MEAN)), tf.tensor1d(STD)), [0, 3, 1, 2]) as tf.Tensor4D,
  );
  return { image, rgb, nchw };
}

async function engineOutput(explainer: Explainer, rgb: tf.Tensor4D, node: string): Promise<Float32Array> {
  const network = explainer.network;
  const plan = network.plan([]);
  const y = tf.tidy(() => {
    const values = network.forward(plan, rgb, []);
    const logits = tf.reshape(values.get(plan.logits)!, [1, -1]);
    return node === 'softmax' ? tf.softmax(logits) : logits;
  });
  const data = (await y.data()) as Float32Array;
  y.dispose();
  return data;
}

beforeAll(async () => {
  ort.env.wasm.numThreads = 1;
  tf.env().set('IS_TEST', false);
  await useNodeBackend('wasm');
});
afterAll(() => tf.env().set('IS_TEST', true));

describe.each([
  ['every standard operation', everyOpGraph, 'softmax', 'mixed', 'mixed'],
  ['QDQ weights, MatMul and a constant bias', qdqGraph, 'logits', 'conv', 'r'],
] as const)('%s', (_name, build, output, layer, tensor) => {
  const bytes = onnxModel(build());
  let explainer: Explainer;
  let session: ort.InferenceSession;
  beforeAll(async () => {
    explainer = openOnnxModel(bytes, { location: 'test.onnx', normalize: 'imagenet' }).explainer;
    session = await ort.InferenceSession.create(bytes);
  });
  afterAll(async () => {
    explainer.dispose();
    await session.release();
  });

  test('its output equals ONNX Runtime’s within 1e-5', async () => {
    const { rgb, nchw } = await photoInputs(explainer);
    const out = await session.run({ x: new ort.Tensor('float32', (await nchw.data()) as Float32Array, nchw.shape) });
    const expected = out[session.outputNames[0]!]!.data as Float32Array;
    const ours = await engineOutput(explainer, rgb, output);
    tf.dispose([rgb, nchw]);
    expect(ours.length).toBe(expected.length);
    expect(maxAbsDiff(ours, expected)).toBeLessThan(1e-5);
    // Not a constant answer: the photo's scores spread.
    expect(Math.max(...expected) - Math.min(...expected)).toBeGreaterThan(0.01);
  });

  test(`Grad-CAM at ${layer} equals the map of tf.grad through the plain-tfjs reference (within 1e-4)`, async () => {
    const { image, rgb, nchw } = await photoInputs(explainer);
    rgb.dispose();
    const r = await explainer.explain(image, { method: 'gradcam', layer, crop: 'full' });
    const reference = onnxReference(bytes);
    const logitsName = output === 'softmax' ? 'logits' : reference.outputName;
    const a = tf.tidy(() => reference.run(nchw).get(tensor)!);
    await tf.setBackend('cpu');
    const map = tf.tidy(() => {
      const n = explainer.network.numClasses;
      const oneHot = tf.cast(tf.reshape(tf.oneHot([r.target.classIndex], n), [-1]), 'float32');
      const score = (t: tf.Tensor): tf.Scalar =>
        tf.sum(
          tf.mul(tf.reshape(reference.run(nchw, { name: tensor, value: t }).get(logitsName)!, [-1]), oneHot),
        ) as tf.Scalar;
      const g = tf.grad(score)(a);
      return gradCam(tf.transpose(a, [0, 2, 3, 1]) as tf.Tensor4D, tf.transpose(g, [0, 2, 3, 1]) as tf.Tensor4D);
    });
    const values = normalizeHeatmapInPlace((await map.data()) as Float32Array);
    tf.dispose([map, a, nchw]);
    reference.dispose();
    await tf.setBackend('wasm');
    expect(r.heatmap.data.length).toBe(values.length);
    expect(Math.max(...values)).toBe(1);
    expect(maxAbsDiff(r.heatmap.data, values)).toBeLessThan(1e-4);
  });
});

describe('what WhyCam cannot run is named', () => {
  const refused = (bytes: Uint8Array): string => {
    try {
      importOnnx(bytes, { location: 'model.onnx' }).graph.dispose();
    } catch (e) {
      expect(isWhyCamError(e)).toBe(true);
      return (e as Error).message;
    }
    throw new Error('imported');
  };
  const tiny = (nodes: NodeSpec[], extra: Partial<GraphSpec> = {}): Uint8Array =>
    onnxModel({
      nodes,
      initializers: [w('k', [4, 3, 3, 3])],
      input: { name: 'x', dims: [1, 3, 8, 8] },
      output: { name: 'y', dims: [1, 4] },
      ...extra,
    });
  const conv = { op: 'Conv', name: 'conv', inputs: ['x', 'k'], outputs: ['c'] };

  test('an operation, with the node and the supported list', () => {
    const message = refused(
      tiny([conv, { op: 'LRN', name: 'norm', inputs: ['c'], outputs: ['y'], attrs: { size: 3 } }]),
    );
    expect(message).toContain('node "norm" (LRN)');
    expect(message).toContain('Supported ONNX operations:');
    expect(message).toContain('QLinearConv');
  });

  test('an opset', () => {
    expect(refused(tiny([conv], { opset: 5 }))).toContain('opset 5');
  });

  test('an operator domain', () => {
    expect(refused(tiny([{ ...conv, op: 'FusedConv', domain: 'com.example' }]))).toContain('"com.example"');
  });

  test('an input size left open', () => {
    const message = refused(tiny([conv], { input: { name: 'x', dims: ['n', 3, 'height', 'width'] } }));
    expect(message).toContain('leaves its height open ("height")');
  });

  test('a setting: a reshape the engine has no layout for', () => {
    const message = refused(
      onnxModel({
        nodes: [conv, { op: 'Reshape', inputs: ['c', 'to'], outputs: ['y'] }],
        initializers: [w('k', [4, 3, 3, 3]), ints('to', [1, 6, 24])],
        input: { name: 'x', dims: [1, 3, 8, 8] },
        output: { name: 'y', dims: [1, 6, 24] },
      }),
    );
    expect(message).toContain('a reshape of [1, 4, 6, 6] to [1, 6, 24]');
  });

  test('a file that is not ONNX', () => {
    expect(refused(new TextEncoder().encode('<html>not a model</html>'))).toMatch(/not an ONNX model|holds no graph/);
  });
});

test('importing and disposing leaves no tensor behind', () => {
  const bytes = onnxModel(everyOpGraph());
  const before = tf.memory().numTensors;
  importOnnx(bytes, { location: 'test.onnx' }).graph.dispose();
  expect(tf.memory().numTensors).toBe(before);
});

/**
 * The Caffe importer (prototxt parser, caffejs weights → neutral graph) on the two real caffejs
 * models, checked against an independent plain-tfjs Caffe (tests/helpers/caffe-reference.ts),
 * and that reference itself against what is known of BVLC GoogLeNet. The graph is run by a direct
 * evaluator of the neutral ops as graph.ts defines them (tests/helpers/graph-eval.ts: no planner,
 * no steps), so a wrong importer shows here and not only through the engine.
 * Engine check: see caffe-models.test.ts.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
// tf.grad through the reference (the engine differentiates with forward ops and needs none of these).
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { isWhyCamError } from '../../src/explain/errors.js';
import { importCaffe } from '../../src/explain/models/importers/caffe.js';
import { parsePrototxt, type PbMessage } from '../../src/explain/models/importers/prototxt.js';
import type { ModelGraph } from '../../src/explain/network/graph.js';
import { IMAGENET_LABELS } from '../../src/explain/network/labels.js';
import { useNodeBackend } from '../../src/node/backend.js';
import { readImage } from '../../src/node/image-io.js';
import { caffeInput, caffeReference, type CaffeReference, loadCaffeReference } from '../helpers/caffe-reference.js';
import { blobErrors } from '../helpers/graph-eval.js';
import { photo, SHARED_MODELS, VAL_BBOX } from '../helpers/shared.js';

const GOOGLENET = path.join(SHARED_MODELS, 'bvlc_googlenet_caffejs');
const SQUEEZENET = path.join(SHARED_MODELS, 'squeezenet1.1_caffejs');

type Reader = (p: string) => Promise<Uint8Array | null>;
const folderReader =
  (dir: string): Reader =>
  async (p) => {
    try {
      return new Uint8Array(await fs.readFile(path.join(dir, p)));
    } catch {
      return null;
    }
  };
const prototxtOf = (dir: string) => fs.readFile(path.join(dir, 'deploy.prototxt'), 'utf8');
const importFolder = async (dir: string, location: string, inputSize?: [number, number]) =>
  importCaffe(await prototxtOf(dir), folderReader(dir), { location, ...(inputSize ? { inputSize } : {}) });

/** The error `fn` rejects with (the test fails if it resolves). */
async function rejection(fn: () => Promise<unknown>): Promise<Error> {
  try {
    await fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a rejection');
}

const worst = (errors: Map<string, number>) => Math.max(...errors.values());

function top(probs: tf.Tensor, k: number): { index: number; p: number }[] {
  const p = probs.dataSync();
  return [...p.keys()]
    .sort((a, b) => p[b]! - p[a]!)
    .slice(0, k)
    .map((index) => ({ index, p: p[index]! }));
}

let googlenet: ModelGraph;
let squeezenet: ModelGraph;
beforeAll(async () => {
  await useNodeBackend('wasm');
  googlenet = await importFolder(GOOGLENET, 'googlenet');
  squeezenet = await importFolder(SQUEEZENET, 'squeezenet');
});
afterAll(() => {
  googlenet?.dispose();
  squeezenet?.dispose();
});

describe('the prototxt parser', () => {
  test('reads both real deploy nets', async () => {
    const g = parsePrototxt(await prototxtOf(GOOGLENET));
    const layers = g['layer'] as PbMessage[];
    expect(g['name']).toEqual(['GoogleNet']);
    expect(layers).toHaveLength(143);
    expect(((layers[0]!['input_param']![0] as PbMessage)['shape']![0] as PbMessage)['dim']).toEqual([10, 3, 224, 224]);
    expect(layers[1]!['convolution_param']![0]).toMatchObject({
      num_output: [64],
      pad: [3],
      kernel_size: [7],
      stride: [2],
    });
    expect(layers[3]!['pooling_param']![0]).toMatchObject({ pool: ['MAX'] });
    expect(layers[4]!['lrn_param']![0]).toMatchObject({ local_size: [5], alpha: [0.0001], beta: [0.75] });
    expect(layers.find((l) => l['name']![0] === 'inception_5b/output')!['bottom']).toHaveLength(4);
    const s = parsePrototxt(await prototxtOf(SQUEEZENET));
    const pool10 = (s['layer'] as PbMessage[]).find((l) => l['name']![0] === 'pool10')!;
    expect(s['layer']).toHaveLength(67);
    expect(pool10['pooling_param']![0]).toMatchObject({ pool: ['AVE'], global_pooling: ['true'] });
  });

  test('reads the rest of the text format: comments, lists, <>, escapes, signs, radixes', () => {
    const m = parsePrototxt(
      `# a comment\nname: 'a' "b" # joined\nv: [1, -2.5e1, .5f, 0x1F, 017, -inf]\nm < x: 1 >; n: { } e: "q\\"\\n\\101\\x41"`,
    );
    expect(m['name']).toEqual(['ab']);
    expect(m['v']).toEqual([1, -25, 0.5, 31, 15, -Infinity]);
    expect(m['m']).toEqual([{ x: [1] }]);
    expect(m['n']).toEqual([{}]);
    expect(m['e']).toEqual(['q"\nAA']);
    expect(parsePrototxt('constructor: 1')['constructor']).toEqual([1]);
  });

  test.each([
    [
      'layer {\n  name: "x"\n  type "Y"\n}',
      'line 3, column 8: expected ":" or "{" after "type", found the string "Y".',
    ],
    ['layer {\n  name: "x\n}', 'line 2, column 9: a string is not closed on its line.'],
    ['layer {\n  name: "x"\n', 'line 3, column 1: the "{" of line 1, column 7 is never closed.'],
    ['name: "x"\n}', 'line 2, column 1: unexpected "}".'],
    ['a: 1\nb: 12abc', 'line 2, column 4: "12a…" is not a number or a name.'],
    ['a: 1\n  b: @', 'line 2, column 6: unexpected character "@".'],
    ['a: [1, 2', 'line 1, column 9: expected "," or "]" in a list, found the end of the file.'],
  ])('names the line and column of a syntax error: %j', (text, message) => {
    let error: unknown;
    try {
      parsePrototxt(text, 'deploy.prototxt');
    } catch (e) {
      error = e;
    }
    expect(isWhyCamError(error) && error.code).toBe('model-corrupt');
    expect((error as Error).message).toBe(`deploy.prototxt, ${message}`);
  });
});

describe('the Caffe importer', () => {
  test('GoogLeNet: every layer a node named as in Caffe, at Caffe’s sizes', () => {
    const shape = (n: string) => googlenet.byName.get(n)!.shape;
    expect(googlenet.nodes).toHaveLength(144); // 143 layers and the flatten before loss3/classifier
    expect([googlenet.input, googlenet.output]).toEqual(['data', 'prob']);
    expect(shape('data')).toEqual([1, 224, 224, 3]);
    expect(shape('conv1/7x7_s2')).toEqual([1, 112, 112, 64]);
    expect(shape('pool1/3x3_s2')).toEqual([1, 56, 56, 64]);
    expect(shape('pool2/3x3_s2')).toEqual([1, 28, 28, 192]);
    expect(shape('inception_3a/output')).toEqual([1, 28, 28, 256]);
    expect(shape('inception_5b/output')).toEqual([1, 7, 7, 1024]);
    expect(shape('pool5/7x7_s1')).toEqual([1, 1, 1, 1024]);
    expect(shape('loss3/classifier')).toEqual([1, 1000]);
    expect(shape('prob')).toEqual([1, 1000]);
    const node = (n: string) => googlenet.byName.get(n)!;
    // In-place layers: each reads the value its blob had just before.
    expect(node('conv1/relu_7x7').inputs).toEqual(['conv1/7x7_s2']);
    expect(node('pool1/3x3_s2').inputs).toEqual(['conv1/relu_7x7']);
    expect(node('loss3/classifier/flatten').inputs).toEqual(['pool5/drop_7x7_s1']);
    expect(node('conv1/7x7_s2').op).toMatchObject({ type: 'conv2d', padding: [3, 3, 3, 3], strides: [2, 2] });
    expect(node('conv1/7x7_s2').weights['kernel']!.shape).toEqual([7, 7, 3, 64]);
    expect(node('pool1/3x3_s2').op).toEqual({ type: 'maxPool', kernel: [3, 3], strides: [2, 2], pads: [0, 1, 0, 1] });
    expect(node('pool1/norm1').op).toEqual({ type: 'lrn', depthRadius: 2, bias: 1, alpha: 0.0001 / 5, beta: 0.75 });
    expect(node('pool5/7x7_s1').op).toEqual({ type: 'globalAvgPool', keepDims: true });
    expect(node('loss3/classifier/flatten').op).toEqual({ type: 'flatten', order: 'chw' });
    expect(node('loss3/classifier').weights['kernel']!.shape).toEqual([1024, 1000]);
  });

  test('SqueezeNet 1.1 at 227 and, fully convolutional, at 224', async () => {
    const shape = (n: string) => squeezenet.byName.get(n)!.shape;
    expect(squeezenet.nodes).toHaveLength(67);
    expect(shape('conv1')).toEqual([1, 113, 113, 64]);
    // Caffe rounds pooled sizes up: 113 → 56, 56 → 28, 28 → 14 (at 224: 111 → 55 → 27 → 13).
    expect(shape('pool1')).toEqual([1, 56, 56, 64]);
    expect(shape('pool3')).toEqual([1, 28, 28, 128]);
    expect(shape('pool5')).toEqual([1, 14, 14, 256]);
    expect(shape('fire9/concat')).toEqual([1, 14, 14, 512]);
    expect(shape('conv10')).toEqual([1, 14, 14, 1000]);
    expect(squeezenet.byName.get('relu_conv10')!.inputs).toEqual(['conv10']);
    expect(shape('pool10')).toEqual([1, 1, 1, 1000]);
    expect(squeezenet.output).toBe('prob');
    const before = tf.memory().numTensors;
    const small = await importFolder(SQUEEZENET, 'squeezenet', [224, 224]);
    expect(small.byName.get('conv10')!.shape).toEqual([1, 13, 13, 1000]);
    expect(small.byName.get('pool1')!.shape).toEqual([1, 55, 55, 64]);
    small.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('what the importer refuses, by name', () => {
  const net = (layers: string) => `input: "data"\ninput_dim: 1\ninput_dim: 4\ninput_dim: 8\ninput_dim: 8\n${layers}`;
  const noFiles: Reader = () => Promise.resolve(null);

  test.each([
    [
      'layer { name: "scale1" type: "Scale" bottom: "data" top: "data" }',
      'Layer "scale1" is a Caffe Scale, which WhyCam cannot run.',
    ],
    [
      'layer { name: "c" type: "Convolution" bottom: "data" top: "c" convolution_param { num_output: 8 kernel_size: 1 group: 2 } }',
      'Layer "c" is a Caffe Convolution in 2 groups, which WhyCam cannot run.',
    ],
    [
      'layer { name: "n" type: "LRN" bottom: "data" top: "n" lrn_param { norm_region: WITHIN_CHANNEL } }',
      'Layer "n" is a Caffe LRN over WITHIN_CHANNEL, which WhyCam cannot run.',
    ],
    [
      'layer { name: "e" type: "Eltwise" bottom: "data" bottom: "data" top: "e" eltwise_param { operation: MAX } }',
      'Layer "e" is a Caffe Eltwise MAX, which WhyCam cannot run.',
    ],
  ])('%s', async (layers, message) => {
    const e = await rejection(() => importCaffe(net(layers), noFiles, { location: 'toy' }));
    expect(isWhyCamError(e) && e.code).toBe('unsupported-model');
    expect(e.message).toBe(
      `${message}\nSupported Caffe layers: Input, Convolution, ReLU, Sigmoid, TanH, ELU, Pooling (MAX, AVE), LRN (ACROSS_CHANNELS), Concat, Eltwise (SUM), Dropout, InnerProduct, Flatten, Softmax.`,
    );
  });

  test('a truncated or missing weight file, by its path, and nothing left allocated', async () => {
    const prototxt = await prototxtOf(SQUEEZENET);
    const real = folderReader(SQUEEZENET);
    const before = tf.memory().numTensors;
    const truncated = await rejection(() =>
      importCaffe(
        prototxt,
        async (p) =>
          ((await real(p)) ?? new Uint8Array()).subarray(0, p === 'weights/conv1_filter.bin' ? 6908 : undefined),
        {
          location: 'squeezenet',
        },
      ),
    );
    expect(isWhyCamError(truncated) && truncated.code).toBe('model-corrupt');
    expect(truncated.message).toBe(
      'squeezenet/weights/conv1_filter.bin holds 6908 bytes; layer "conv1" needs 6912 (64×3×3×3 float32 values): the file is truncated or damaged.',
    );
    const missing = await rejection(() =>
      importCaffe(prototxt, (p) => (p === 'weights/fire9/expand3x3_filter.bin' ? Promise.resolve(null) : real(p)), {
        location: 'squeezenet',
      }),
    );
    expect(isWhyCamError(missing) && missing.code).toBe('model-missing');
    expect(missing.message).toBe(
      'squeezenet/weights/fire9/expand3x3_filter.bin is missing (the filter of layer "fire9/expand3x3").',
    );
    expect(tf.memory().numTensors).toBe(before);
  });
});

/**
 * A small net with what the two real ones lack: non-square kernels, strides and pads, dilation,
 * a depthwise (grouped) convolution without bias, leaky ReLU, TanH, Sigmoid, ELU, Eltwise, a
 * padded AVE pooling whose rounding adds a row and column, one where Caffe drops the last
 * window, and an InnerProduct over a 4×7 map (where the flatten order matters).
 */
const TOY = `name: "toy"
input: "data"
input_shape { dim: 1 dim: 4 dim: 11 dim: 13 }
layer { name: "conv_a" type: "Convolution" bottom: "data" top: "a"
  convolution_param { num_output: 6 kernel_h: 3 kernel_w: 2 stride_h: 2 stride_w: 1 pad_h: 1 pad_w: 0 } }
layer { name: "leaky" type: "ReLU" bottom: "a" top: "a" relu_param { negative_slope: 0.1 } }
layer { name: "dw" type: "Convolution" bottom: "a" top: "dw"
  convolution_param { num_output: 12 group: 6 kernel_size: 3 pad: 2 dilation: 2 bias_term: false } }
layer { name: "tanh" type: "TanH" bottom: "dw" top: "dw" }
layer { name: "conv_b" type: "Convolution" bottom: "a" top: "b" convolution_param { num_output: 12 kernel_size: 1 } }
layer { name: "sig" type: "Sigmoid" bottom: "b" top: "b" }
layer { name: "sum" type: "Eltwise" bottom: "dw" bottom: "b" top: "sum" }
layer { name: "norm" type: "LRN" bottom: "sum" top: "norm" lrn_param { local_size: 3 alpha: 0.5 beta: 0.75 k: 2 } }
layer { name: "ave" type: "Pooling" bottom: "norm" top: "ave" pooling_param { pool: AVE kernel_size: 3 stride: 2 pad: 1 } }
layer { name: "max" type: "Pooling" bottom: "norm" top: "max" pooling_param { pool: MAX kernel_size: 2 stride: 2 pad: 1 } }
layer { name: "ave_dropped" type: "Pooling" bottom: "norm" top: "ave_dropped" pooling_param { pool: AVE kernel_size: 3 stride: 2 pad: 2 } }
layer { name: "cat" type: "Concat" bottom: "ave" bottom: "max" top: "cat" }
layer { name: "fc" type: "InnerProduct" bottom: "cat" top: "fc" inner_product_param { num_output: 7 } }
layer { name: "elu" type: "ELU" bottom: "fc" top: "fc" }
layer { name: "drop" type: "Dropout" bottom: "fc" top: "fc" }
layer { name: "prob" type: "Softmax" bottom: "fc" top: "prob" }
`;
const TOY_WEIGHTS: Record<string, number> = {
  conv_a_filter: 6 * 3 * 2 * 4,
  conv_a_bias: 6,
  dw_filter: 12 * 3 * 3,
  conv_b_filter: 12 * 6,
  conv_b_bias: 12,
  fc_filter: 7 * 4 * 7 * 24,
  fc_bias: 7,
};

/** Reproducible values in [−1, 1) as little-endian float32 bytes. */
function randomBytes(count: number, seed: number): Uint8Array {
  const view = new DataView(new ArrayBuffer(count * 4));
  let s = seed;
  for (let i = 0; i < count; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    view.setFloat32(i * 4, (s / 2 ** 32) * 2 - 1, true);
  }
  return new Uint8Array(view.buffer);
}

describe('the imported graph computes what Caffe computes', () => {
  test('a small net of every supported setting, blob by blob', async () => {
    const toyReader: Reader = (p) => {
      const key = /^weights\/(.*)\.bin$/.exec(p)?.[1];
      const count = key ? TOY_WEIGHTS[key] : undefined;
      return Promise.resolve(count ? randomBytes(count, count) : null);
    };
    const graph = await importCaffe(TOY, toyReader, { location: 'toy' });
    const ref = await caffeReference(TOY, toyReader);
    expect(graph.byName.get('dw')!.op.type).toBe('depthwiseConv2d');
    expect(graph.byName.get('ave')!.op).toMatchObject({ pads: [1, 2, 1, 2], countPads: [1, 1, 1, 1] });
    expect(graph.byName.get('ave')!.shape).toEqual([1, 4, 7, 12]);
    expect(graph.byName.get('ave_dropped')!.shape).toEqual([1, 4, 7, 12]); // 5 × 8 before Caffe drops a window
    const x = tf.tidy(() => tf.mul(tf.randomUniform([1, 11, 13, 4], -1, 1, 'float32', 7), 3)) as tf.Tensor4D;
    const errors = blobErrors(graph, ref, x);
    expect([...errors.keys()].sort()).toEqual([
      'a',
      'ave',
      'ave_dropped',
      'b',
      'cat',
      'data',
      'dw',
      'fc',
      'max',
      'norm',
      'prob',
      'sum',
    ]);
    expect(worst(errors)).toBeLessThan(1e-5);
    x.dispose();
    graph.dispose();
    ref.dispose();
  });

  test('GoogLeNet and SqueezeNet 1.1 on a photo, blob by blob', async () => {
    const image = await readImage(photo('sherlock_golden_retriever.jpg'));
    for (const [graph, dir, size] of [
      [googlenet, GOOGLENET, [224, 224]],
      [squeezenet, SQUEEZENET, [227, 227]],
    ] as const) {
      const ref = await loadCaffeReference(dir);
      const x = caffeInput(image, size);
      const errors = blobErrors(graph, ref, x);
      expect(errors.size).toBe(new Set(ref.layers.map((l) => l.top)).size);
      const [blob, error] = [...errors].sort((a, b) => b[1] - a[1])[0]!;
      expect(error, `${dir}: worst blob ${blob}`).toBeLessThan(1e-4);
      x.dispose();
      ref.dispose();
    }
  });
});

describe('the reference is BVLC GoogLeNet', () => {
  let ref: CaffeReference;
  beforeAll(async () => {
    ref = await loadCaffeReference(GOOGLENET);
  });
  afterAll(() => ref?.dispose());

  const classify = async (file: string) => {
    const x = caffeInput(await readImage(file), [224, 224]);
    const best = tf.tidy(() => top(ref.run(x).get('prob')!, 3));
    x.dispose();
    return best;
  };

  test("MATLAB's sherlock.jpg is a golden retriever", async () => {
    const [first] = await classify(photo('sherlock_golden_retriever.jpg'));
    console.log(`sherlock: ${IMAGENET_LABELS.label(first!.index)} (${first!.index}) ${first!.p.toFixed(4)}`);
    expect(first!.index).toBe(207);
  });

  test('the ImageNet validation photos SOURCES.md names: five right, Angora missed', async () => {
    const rows = (await fs.readFile(path.join(VAL_BBOX, 'labels.tsv'), 'utf8')).trim().split('\n').slice(1);
    const top1 = new Map<number, number>();
    for (const row of rows) {
      const [file, truth] = row.split('\t') as [string, string];
      const best = await classify(path.join(VAL_BBOX, file));
      const said = best.map((b) => `${IMAGENET_LABELS.label(b.index)} ${b.p.toFixed(3)}`).join(', ');
      console.log(`${file} (${IMAGENET_LABELS.label(Number(truth))}): ${said}`);
      top1.set(Number(truth), best[0]!.index);
    }
    // Shetland sheepdog, porcupine, brain coral, cougar, recreational vehicle; Angora (332) is not.
    for (const truth of [230, 334, 109, 286, 757]) expect(top1.get(truth), IMAGENET_LABELS.label(truth)).toBe(truth);
    expect(top1.get(332)).not.toBe(332);
  });

  test('differentiates from a feature blob: d logit / d inception_5b/output is the classifier row over 49', async () => {
    // The file's (out, in) matrix, row 207: pool5 averages 7 × 7 positions into a linear layer.
    const bytes = await fs.readFile(path.join(GOOGLENET, 'weights/loss3/classifier_filter.bin'));
    const rowValues = new Float32Array(
      bytes.buffer.slice(bytes.byteOffset + 207 * 4096, bytes.byteOffset + 208 * 4096),
    );
    const x = tf.zeros([1, 224, 224, 3]) as tf.Tensor4D;
    const [grad, row] = tf.tidy(() => {
      const feature = ref.run(x).get('inception_5b/output')!;
      const logit = (a: tf.Tensor) =>
        tf.squeeze(
          tf.slice(
            ref.run(x, { from: { blob: 'inception_5b/output', value: a } }).get('loss3/classifier')!,
            [0, 207],
            [1, 1],
          ),
        );
      return [tf.grad(logit)(feature), tf.tensor4d(rowValues, [1, 1, 1, 1024])];
    });
    expect(grad.shape).toEqual([1, 7, 7, 1024]);
    const error = tf.tidy(() => tf.max(tf.abs(tf.sub(grad, tf.div(row, 49)))).dataSync()[0]!);
    expect(error).toBeLessThan(1e-7);
    tf.dispose([x, grad, row]);
  });
});

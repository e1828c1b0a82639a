import fs from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import '@tensorflow/tfjs-backend-cpu';
import type * as tfl from '@tensorflow/tfjs-layers';
import { zipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { type ExplainRecord, explainCommand } from '../../src/cli/explain-command.js';
import { openModel, type OpenedModel, pickedModelReader } from '../../src/explain/models/open-model.js';
import { TEACHABLE_MACHINE_INPUT_RANGE } from '../../src/explain/models/teachable-machine.js';
import { readImage } from '../../src/node/image-io.js';
import { referenceInput } from '../helpers/resize-reference.js';
import { openModelAt, registeredArtifacts } from '../../src/node/model-path.js';
import { photo, SHARED_MODELS } from '../helpers/shared.js';
import { kerasSource } from '../helpers/keras-source.js';

// The two real Teachable Machine image exports in ../shared/models/teachable-machine (see its
// SOURCES.md), loaded from there: a Sequential of Sequentials around MobileNet V2 0.35, then
// Dense 100 relu → Dense N softmax, in the 2019 metadata form (day-night) and the current one.

const TM = path.join(SHARED_MODELS, 'teachable-machine');
const FILES = ['model.json', 'weights.bin', 'metadata.json'];
const opened = new Map<string, OpenedModel>();

async function picked(dir: string, names = FILES): Promise<File[]> {
  return Promise.all(names.map(async (n) => new File([await fs.readFile(path.join(TM, dir, n))], n)));
}

beforeAll(async () => {
  await tf.setBackend('cpu');
  for (const dir of ['day-night', 'rock-paper-scissors'])
    opened.set(dir, await openModelAt(path.join(TM, dir), SHARED_MODELS));
});

afterAll(() => {
  for (const m of opened.values()) m.explainer.dispose();
});

describe.each([
  ['day-night', ['nighttime', 'daytime']],
  ['rock-paper-scissors', ['Rock', 'Paper', 'Scissors']],
])('the %s export', (dir, labels) => {
  test("loads with its labels, Teachable Machine's input scaling and MobileNet V2's feature maps", () => {
    const m = opened.get(dir)!;
    expect(m.kind).toBe('teachable-machine');
    expect(m.labels).toEqual(labels);
    expect(m.explainer.labels.short).toEqual(labels);
    expect(m.explainer.inputSize).toEqual([224, 224]);
    expect(m.explainer.inputRange).toEqual(TEACHABLE_MACHINE_INPUT_RANGE);
    expect(m.explainer.lastConvLayer).toBe('out_relu');
    const layers = new Map(m.explainer.featureLayers.map((l) => [l.name, l]));
    expect(layers.get('out_relu')).toEqual({ name: 'out_relu', height: 7, width: 7, channels: 1280 });
    // The 14×14 stage: the residual sums of blocks 8–12 are cut points (the layers inside a block are not).
    expect(
      ['block_8_add', 'block_9_add', 'block_11_add', 'block_12_add'].every((n) => layers.get(n)?.height === 14),
    ).toBe(true);
    expect(layers.has('block_12_depthwise')).toBe(false);
    expect(m.explainer.camLayer).toBeNull();
    expect(m.methodNotes).toMatch(
      /here Dense "dense_Dense1" \(relu\) follows it, which is not linear. So CAM does not apply/,
    );
  });

  test('predicts like tfjs-layers runs the unflattened export, and explains at 7×7 and 14×14', async () => {
    const m = opened.get(dir)!;
    const image = await readImage(photo('sherlock_golden_retriever.jpg'));
    const [grad, layer] = await m.explainer.explainMany(
      image,
      [{ method: 'gradcam' }, { method: 'layercam', layer: 'block_12_add' }],
      { crop: 'center', topK: labels.length },
    );
    expect(grad!.heatmap).toMatchObject({ width: 7, height: 7 });
    expect(layer!.heatmap).toMatchObject({ width: 14, height: 14 });
    expect(grad!.predictions.map((p) => p.label).sort()).toEqual([...labels].sort());
    expect(grad!.predictions.reduce((s, p) => s + p.score, 0)).toBeCloseTo(1, 4);
    expect(Math.max(...grad!.heatmap.data)).toBeCloseTo(1, 5);

    // The same picture through tfjs-layers' own loading of the nested export: same scores.
    const tfl = await import('@tensorflow/tfjs-layers');
    const json = JSON.parse(await fs.readFile(path.join(TM, dir, 'model.json'), 'utf8')) as {
      modelTopology: object;
      weightsManifest: { weights: tf.io.WeightsManifestEntry[] }[];
    };
    const weights = await fs.readFile(path.join(TM, dir, 'weights.bin'));
    const nested = await tfl.loadLayersModel(
      tf.io.fromMemory({
        modelTopology: json.modelTopology,
        weightSpecs: json.weightsManifest[0]!.weights,
        weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength),
      }),
    );
    const side = Math.min(image.width, image.height);
    const region = {
      x: Math.floor((image.width - side) / 2),
      y: Math.floor((image.height - side) / 2),
      width: side,
      height: side,
    };
    // The square shrinks 2.86×: area-averaged, as the engine's input kernel does (antialias.test.ts).
    const pixels = await referenceInput(image, region, [224, 224], [0, 255]);
    const expected = tf.tidy(() => {
      const x = tf.tensor3d(pixels, [224, 224, 3]);
      return (nested.predict(tf.expandDims(tf.sub(tf.div(x, 127), 1), 0)) as tf.Tensor).dataSync();
    });
    nested.dispose();
    for (const p of grad!.predictions) expect(p.score).toBeCloseTo(expected[p.classIndex]!, 4);
  });

  test('CAM is refused with the reason, not a stack trace', async () => {
    const image = tf.zeros([224, 224, 3], 'int32') as tf.Tensor3D;
    await expect(opened.get(dir)!.explainer.explain(image, { method: 'cam' })).rejects.toMatchObject({
      code: 'method-unavailable',
      message: expect.stringMatching(
        /CAM needs a linear classifier after global average pooling; here Dense "dense_Dense1" \(relu\) follows it/,
      ),
    });
    image.dispose();
  });
});

/** The flattened model from `name`'s output to the pre-softmax scores, run by tfjs-layers itself. */
function headFrom(model: tfl.LayersModel, name: string, logits: string): (a: tf.Tensor) => tf.Tensor {
  const order = model.layers.map((l) => l.name);
  const after = model.layers.slice(order.indexOf(name) + 1, order.indexOf(logits) + 1);
  return (a) => {
    const values = new Map<string, tf.Tensor>([[name, a]]);
    for (const layer of after) {
      const inputs = layer.inboundNodes[0]!.inboundLayers.map((l) => values.get(l.name)!);
      if (layer.name === logits) {
        const [kernel, bias] = layer.getWeights();
        const z = tf.matMul(inputs[0] as tf.Tensor2D, kernel as tf.Tensor2D);
        values.set(layer.name, bias ? tf.add(z, bias) : z);
      } else {
        values.set(layer.name, layer.apply(inputs.length === 1 ? inputs[0]! : inputs) as tf.Tensor);
      }
    }
    return values.get(logits)!;
  };
}

describe('Grad-CAM on a Teachable Machine model', () => {
  test.each(['out_relu', 'block_12_add', 'block_15_add'])(
    "at %s: the engine's gradient equals tf.grad through tfjs-layers",
    async (layer) => {
      const { explainer } = opened.get('rock-paper-scissors')!;
      const network = explainer.network;
      const x = tf.randomUniform([1, 224, 224, 3], -1, 1, 'float32', 7) as tf.Tensor4D;
      const CLASS = 1;
      const [err, scale] = tf
        .tidy(() => {
          const plan = network.plan([layer]);
          const values = network.forward(plan, x, [layer]);
          const oneHot = tf.cast(tf.oneHot([CLASS], 3), 'float32');
          const ours = network.backward(plan, values, oneHot, [layer]).get(layer)!;
          const head = headFrom(kerasSource(network), layer, network.logits);
          const reference = tf.grad((a) => tf.sum(tf.mul(tf.reshape(head(a), [1, 3]), oneHot)))(values.get(layer)!);
          return [tf.max(tf.abs(tf.sub(ours, reference))), tf.max(tf.abs(reference))];
        })
        .map((t) => t.dataSync()[0]!);
      x.dispose();
      expect(scale).toBeGreaterThan(1e-5);
      expect(err).toBeLessThan(1e-4 * scale);
    },
  );
});

describe('a damaged or partial export', () => {
  test.each([
    [['weights.bin', 'metadata.json'], /has no model\.json/],
    [['model.json', 'metadata.json'], /the picked files\/weights\.bin is missing/],
  ])('picked without one file (%j) names it', async (names, message) => {
    const read = await pickedModelReader(await picked('day-night', names));
    await expect(
      openModel(read, { location: 'the picked files', loadBase: registeredArtifacts(SHARED_MODELS) }),
    ).rejects.toMatchObject({ code: 'model-missing', message: expect.stringMatching(message) });
  });

  test('without metadata.json it opens as the user’s own Keras model: numbered classes, the assumptions said', async () => {
    const read = await pickedModelReader(await picked('day-night', ['model.json', 'weights.bin']));
    const opened = await openModel(read, {
      location: 'the picked files',
      loadBase: registeredArtifacts(SHARED_MODELS),
    });
    try {
      expect(opened.kind).toBe('keras');
      expect(opened.labels).toEqual(['class 0', 'class 1']);
      expect(opened.summary.join(' ')).toMatch(/Recognised: a Keras model of \d+ layers, input 224×224, 2 classes/);
      expect(opened.summary.join(' ')).toMatch(/Assumed: no labels/);
      expect(opened.summary.join(' ')).toMatch(/Assumed: the input is RGB scaled to \[−1, 1\]/);
    } finally {
      opened.explainer.dispose();
    }
  });

  test('a truncated weights.bin is named with its length', async () => {
    const files = await picked('day-night');
    const weights = files[1]!;
    files[1] = new File([(await weights.arrayBuffer()).slice(0, 1000)], 'weights.bin');
    await expect(
      openModel(await pickedModelReader(files), { location: 'x', loadBase: registeredArtifacts(SHARED_MODELS) }),
    ).rejects.toMatchObject({
      code: 'model-corrupt',
      message: expect.stringMatching(/x\/weights\.bin holds 1000 bytes; model\.json declares 2154032/),
    });
  });

  test('a layer class tfjs cannot build is named, with what is supported', async () => {
    const files = await picked('rock-paper-scissors');
    const json = (await files[0]!.text()).replace('"class_name":"ZeroPadding2D"', '"class_name":"MultiHeadAttention"');
    files[0] = new File([json], 'model.json');
    await expect(
      openModel(await pickedModelReader(files), { location: 'x', loadBase: registeredArtifacts(SHARED_MODELS) }),
    ).rejects.toMatchObject({
      code: 'unsupported-model',
      message: expect.stringMatching(
        /layer class MultiHeadAttention \(layer "Conv1_pad"\)[\s\S]*Supported layer classes: Activation, Add, /,
      ),
    });
  });
});

describe('metadata.json', () => {
  test('a pose or audio export, or one without labels, is refused with the reason', async () => {
    const files = await picked('rock-paper-scissors');
    const meta = JSON.parse(await files[2]!.text()) as Record<string, unknown>;
    const open = async (m: unknown): Promise<unknown> =>
      openModel(await pickedModelReader([files[0]!, files[1]!, new File([JSON.stringify(m)], 'metadata.json')]), {
        location: 'x',
        loadBase: registeredArtifacts(SHARED_MODELS),
      });
    await expect(open({ ...meta, packageName: '@teachablemachine/pose' })).rejects.toThrow(
      /x is a pose model[\s\S]*image models/,
    );
    await expect(open({ ...meta, labels: undefined })).rejects.toThrow(/x\/metadata\.json has no list of class labels/);
    await expect(open({ ...meta, labels: ['Rock', 'Paper'] })).rejects.toThrow(
      /scores 3 classes but 2 labels were given/,
    );
  });
});

describe('the zip Teachable Machine downloads', () => {
  test('opens like the three files, from a folder inside the archive too', async () => {
    const entries = Object.fromEntries(
      await Promise.all(
        FILES.map(
          async (n) =>
            [`my_model/${n}`, new Uint8Array(await fs.readFile(path.join(TM, 'rock-paper-scissors', n)))] as const,
        ),
      ),
    );
    const zip = new File([zipSync(entries)], 'tm-my-image-model.zip');
    const m = await openModel(await pickedModelReader([zip]), {
      location: zip.name,
      loadBase: registeredArtifacts(SHARED_MODELS),
    });
    expect(m.labels).toEqual(['Rock', 'Paper', 'Scissors']);
    m.explainer.dispose();
  });

  test('a zip without weights.bin names it', async () => {
    const entries = Object.fromEntries(
      await Promise.all(
        ['model.json', 'metadata.json'].map(
          async (n) => [n, new Uint8Array(await fs.readFile(path.join(TM, 'day-night', n)))] as const,
        ),
      ),
    );
    const zip = new File([zipSync(entries)], 'export.zip');
    await expect(
      openModel(await pickedModelReader([zip]), { location: zip.name, loadBase: registeredArtifacts(SHARED_MODELS) }),
    ).rejects.toThrow(/export\.zip\/weights\.bin is missing/);
  });
});

describe('whycam explain --model DIR', () => {
  test.each([
    ['day-night', ['nighttime', 'daytime']],
    ['rock-paper-scissors', ['Rock', 'Paper', 'Scissors']],
  ])('takes the %s folder: its labels, the centre square, Grad-CAM at out_relu', async (dir, labels) => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    const err = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      expect(await explainCommand(['--model', path.join(TM, dir), '--json', photo('horses.jpg')])).toBe(0);
      const record = JSON.parse(String(log.mock.calls[0]![0])) as ExplainRecord;
      expect(record.predictions.map((p) => p.label).sort()).toEqual([...labels].sort());
      expect(record).toMatchObject({ method: 'gradcam', layer: 'out_relu', heatmap: { width: 7, height: 7 } });
      expect(record.region.width).toBe(record.region.height);
    } finally {
      log.mockRestore();
      err.mockRestore();
    }
  });
});

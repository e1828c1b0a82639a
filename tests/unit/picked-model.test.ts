import fs from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, expect, test } from 'vitest';
import { findModel } from '../../models/registry.js';
import { Explainer } from '../../src/explain/methods/explainer.js';
import { IMAGENET_LABELS } from '../../src/explain/network/labels.js';
import { type PickedFile, pickedFilesReader, readVerifiedModel } from '../../src/explain/models/model-files.js';
import { toInputTensor } from '../../src/explain/runtime/input.js';
import { readImage } from '../../src/node/image-io.js';
import { photo, SHARED_MODELS } from '../helpers/shared.js';
import { maxAbsDiff } from '../helpers/stats.js';
import { importKeras } from '../../src/explain/models/importers/keras.js';

// A model the user picks from their disk (the browser's File objects; Node's File here).

const ID = 'mobilenet_v1_0.25_224';
let files: PickedFile[];

beforeAll(async () => {
  await tf.setBackend('cpu');
  const folder = path.join(SHARED_MODELS, ID);
  files = await Promise.all(
    (await fs.readdir(folder)).map(
      async (name) => new File([await fs.readFile(path.join(folder, name))], `${ID}/${name}`),
    ),
  );
});

test('picked files load into a working explainer, checked like any other copy', async () => {
  const artifacts = await readVerifiedModel(pickedFilesReader(files), {
    location: 'the picked folder',
    sha256: findModel(ID)!.sha256,
    fix: 'Pick the whole folder.',
  });
  const explainer = new Explainer(importKeras(await tfl.loadLayersModel(tf.io.fromMemory(artifacts))), {
    labels: IMAGENET_LABELS,
    inputSize: [224, 224],
    inputRange: [-1, 1],
  });
  expect(explainer.lastConvLayer).toBe('conv_pw_13_relu');
  expect(explainer.featureLayers.at(-1)!.channels).toBe(256);
  // It explains, and as the same network read straight from the mirror's files does: tfjs-layers'
  // own predict gives the scores, and an explainer on that copy gives the map.
  const reference = await tfl.loadLayersModel(tf.io.fromMemory(await artifactsFromFolder(ID)));
  const referenceExplainer = new Explainer(importKeras(reference), {
    labels: IMAGENET_LABELS,
    inputSize: [224, 224],
    inputRange: [-1, 1],
  });
  try {
    const image = await readImage(photo('sherlock_golden_retriever.jpg'));
    const r = await explainer.explain(image, { method: 'gradcam', crop: 'full' });
    expect(r.predictions[0]!.label).toBe('golden retriever');
    const x = await toInputTensor(image, r.region, [224, 224], [-1, 1]);
    const probabilities = tf.tidy(() => tf.reshape(reference.predict(x) as tf.Tensor, [-1]));
    const p = (await probabilities.data()) as Float32Array;
    tf.dispose([x, probabilities]);
    expect(p.indexOf(Math.max(...p))).toBe(r.predictions[0]!.classIndex);
    expect(
      maxAbsDiff(
        r.predictions.map((q) => q.score),
        r.predictions.map((q) => p[q.classIndex]!),
      ),
    ).toBeLessThan(1e-5);
    const expected = await referenceExplainer.explain(image, { method: 'gradcam', crop: 'full' });
    expect(r.layer).toBe(expected.layer);
    expect(Math.max(...expected.heatmap.data)).toBe(1);
    expect(maxAbsDiff(r.heatmap.data, expected.heatmap.data)).toBeLessThan(1e-6);
  } finally {
    referenceExplainer.dispose();
    explainer.dispose();
  }
});

/** A model folder's artifacts read with plain file reads: model.json, and its shards in manifest order. */
async function artifactsFromFolder(id: string): Promise<tf.io.ModelArtifacts> {
  const folder = path.join(SHARED_MODELS, id);
  const json = JSON.parse(await fs.readFile(path.join(folder, 'model.json'), 'utf8')) as {
    modelTopology: object;
    weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
  };
  const shards = await Promise.all(
    json.weightsManifest.flatMap((g) => g.paths).map((name) => fs.readFile(path.join(folder, name))),
  );
  const weightData = new Uint8Array(Buffer.concat(shards)).buffer;
  return {
    modelTopology: json.modelTopology,
    weightSpecs: json.weightsManifest.flatMap((g) => g.weights),
    weightData,
  };
}

test('a missing or oversized picked file is refused by name', async () => {
  const withoutShard = files.filter((f) => !f.name.endsWith('group7-shard1of1'));
  await expect(
    readVerifiedModel(pickedFilesReader(withoutShard), {
      location: 'the picked folder',
      fix: 'Pick the whole folder.',
    }),
  ).rejects.toThrow(/the picked folder\/group7-shard1of1 is missing[\s\S]*Pick the whole folder/);
  const huge = { name: 'model.json', size: 2 ** 30, arrayBuffer: () => Promise.reject(new Error('must not be read')) };
  await expect(readVerifiedModel(pickedFilesReader([huge]), { location: 'x', fix: '' })).rejects.toThrow(
    /model\.json is 1024 MiB; a model file may be at most 256 MiB/,
  );
});

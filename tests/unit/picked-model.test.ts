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
import { SHARED_MODELS } from '../helpers/shared.js';

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
  const explainer = new Explainer(await tfl.loadLayersModel(tf.io.fromMemory(artifacts)), {
    labels: IMAGENET_LABELS,
    inputSize: [224, 224],
    inputRange: [-1, 1],
  });
  expect(explainer.lastConvLayer).toBe('conv_pw_13_relu');
  expect(explainer.featureLayers.at(-1)!.channels).toBe(256);
  explainer.dispose();
});

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

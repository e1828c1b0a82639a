import fs from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { openModel, pickedModelReader } from '../../src/explain/models/open-model.js';
import { readImage } from '../../src/node/image-io.js';
import { registeredArtifacts } from '../../src/node/model-path.js';
import {
  type ExplainSettings,
  type FromWorker,
  type ModelFailedMessage,
  PROTOCOL_VERSION,
  type ReadyMessage,
  type ResultMessage,
  type TaughtMessage,
  type TeachExampleDoneMessage,
  type TeachProgressMessage,
  type ToWorker,
} from '../../src/protocol.js';
import { ExplainService } from '../../workers/explain-service.js';
import { mirrorExplainer } from '../helpers/engine.js';
import { SHARED, SHARED_MODELS } from '../helpers/shared.js';
import { boxedPhotos, TAUGHT_CLASSES, trainingPhotos } from '../helpers/teach-photos.js';

// The worker's side of teach mode and picked models, with the real networks on WASM: examples in,
// a taught model out and in use with its own labels; a Teachable Machine export opened from files;
// a partial export refused with the missing file named while the model in use stays.

const TM = path.join(SHARED_MODELS, 'teachable-machine');
const SETTINGS: ExplainSettings = {
  method: 'layercam',
  layer: 'auto',
  reduction: 'logit',
  classIndex: null,
  contrastClass: null,
  compare: null,
  crop: 'center',
  paused: false,
  scramble: 0,
};
const PER_CLASS = 5;

const posted: FromWorker[] = [];
let service: ExplainService;

/** A decoded photo as the service takes a bitmap (closed once used). */
async function bitmap(file: string): Promise<ImageBitmap> {
  return Object.assign(await readImage(file), { close: () => undefined }) as unknown as ImageBitmap;
}

function of<T extends FromWorker['type']>(type: T): Extract<FromWorker, { type: T }>[] {
  return posted.filter((m): m is Extract<FromWorker, { type: T }> => m.type === type);
}

async function until<T>(find: () => T | undefined, timeout = 120_000): Promise<T> {
  await vi.waitFor(
    () =>
      expect(
        find(),
        JSON.stringify(posted.filter((m) => m.type === 'model-failed' || m.type === 'error')),
      ).toBeDefined(),
    { timeout, interval: 20 },
  );
  return find()!;
}

function send(m: ToWorker): Promise<void> {
  return service.handle(m);
}

async function tmFiles(folder: string, names = ['model.json', 'weights.bin', 'metadata.json']): Promise<File[]> {
  return Promise.all(names.map(async (n) => new File([await fs.readFile(path.join(TM, folder, n))], n)));
}

/** Explains one photo as a still picture and returns the result. */
async function explainPhoto(file: string, imageId: number): Promise<ResultMessage> {
  await send({ type: 'image', bitmap: await bitmap(file), imageId });
  return until(() => of('result').find((r) => r.source.kind === 'image' && r.source.imageId === imageId));
}

beforeAll(async () => {
  service = new ExplainService(
    (m, transfer) => {
      // postMessage refuses a transfer list that names one buffer twice.
      if (transfer && new Set(transfer).size !== transfer.length)
        throw new Error(`${m.type}: a buffer transferred twice`);
      posted.push(m);
    },
    {
      chooseBackend: async () => ({ name: 'wasm', notes: [] }),
      restartBackend: async () => ({ name: 'wasm', notes: [] }),
      fetchExplainer: (id) => mirrorExplainer('wasm', id),
      openFiles: async (files) =>
        openModel(await pickedModelReader(files), {
          location: 'the picked files',
          loadBase: registeredArtifacts(SHARED_MODELS),
        }),
    },
  );
  await send({
    type: 'init',
    version: PROTOCOL_VERSION,
    backend: 'wasm',
    model: 'mobilenet_v1_0.75_224',
    modelBaseUrl: '/models',
    settings: { ...SETTINGS },
  });
}, 120_000);

afterAll(() => service.dispose());

describe('teaching in the worker', () => {
  let taught: TaughtMessage;
  let ready: ReadyMessage;

  beforeAll(async () => {
    const photos = trainingPhotos(SHARED, PER_CLASS);
    let id = 0;
    const classes = await Promise.all(
      photos.map(async (list, c) => {
        const ids: number[] = [];
        for (const p of list) {
          ids.push(++id);
          await send({ type: 'teach-example', exampleId: id, bitmap: await bitmap(p.file) });
        }
        return { name: TAUGHT_CLASSES[c]!.name, exampleIds: ids };
      }),
    );
    // One example removed (a thumbnail the user took back) is not taught.
    await send({ type: 'teach-forget', exampleIds: [classes[0]!.exampleIds.pop()!] });
    // tfjs's test-mode kernel check counts the tensors a fused op saves for its gradient as leaked
    // (only while a tape records, as in training).
    tf.env().set('IS_TEST', false);
    void send({ type: 'teach-train', model: 'stored:animals', name: 'animals', classes });
    ready = await until(() => of('ready').find((r) => r.model === 'stored:animals'));
    taught = of('taught')[0]!;
  }, 300_000);

  test('every example is taken, and the training reports each pass', () => {
    const done = of('teach-example') as TeachExampleDoneMessage[];
    expect(done).toHaveLength(3 * PER_CLASS);
    expect(done.every((d) => d.ok)).toBe(true);
    const passes = (of('teach-progress') as TeachProgressMessage[]).filter((p) => p.stage === 'training');
    expect(passes.map((p) => p.epoch)).toEqual(Array.from({ length: passes[0]!.epochs }, (_, i) => i + 1));
    expect(passes.every((p) => Number.isFinite(p.loss))).toBe(true);
    expect(passes.at(-1)!.loss).toBeLessThan(passes[0]!.loss);
  });

  test('the taught model reports held-back accuracy and is in use with its own labels', async () => {
    console.log(
      `worker taught dog/bird/insect from ${PER_CLASS - 1}/${PER_CLASS}/${PER_CLASS} photos: accuracy ${taught.accuracy}, fit ${taught.trainMs.toFixed(0)} ms, zip ${taught.zip.byteLength} B`,
    );
    expect(taught.labels).toEqual(['dog', 'bird', 'insect']);
    expect(taught.classes.map((c) => c.heldBack)).toEqual([0, 1, 1]);
    expect(taught.accuracy).toBeGreaterThanOrEqual(2 / 3);
    // Its mistakes: the two held-back examples counted once each, with their maps (7×7, in [0, 1]).
    const report = taught.report;
    expect(report.labels).toEqual(['dog', 'bird', 'insect']);
    expect(report.confusion.flat().reduce((a, b) => a + b, 0)).toBe(2);
    expect(report.confusion[0]).toEqual([0, 0, 0]);
    expect(report.examples.map((e) => e.trueClass).sort()).toEqual([1, 2]);
    for (const e of report.examples) {
      expect(report.confusion[e.trueClass]![e.predictedClass]).toBeGreaterThan(0);
      expect([e.heatmap.width, e.heatmap.height]).toEqual([7, 7]);
      expect(Math.max(...e.heatmap.data)).toBe(1);
      expect(Math.min(...e.heatmap.data)).toBe(0);
    }
    // The zip holds the three files and no picture: a head's worth of weights.
    expect(taught.zip.byteLength).toBeLessThan(50_000);
    expect(ready.origin).toBe('taught');
    expect(ready.labels).toEqual(['dog', 'bird', 'insect']);
    expect(ready.modelName).toBe('animals');
    expect(ready.camLayer).not.toBeNull();
    expect(ready.methodNotes).toMatch(/CAM at .* is exact/);
    const dog = boxedPhotos(SHARED, 1)[0]!;
    const r = await explainPhoto(dog.file, 1);
    expect(r.predictions.map((p) => p.label).sort()).toEqual(['bird', 'dog', 'insect']);
    expect(r.target.label).toBe(TAUGHT_CLASSES[dog.label]!.name);
  });
});

describe('models from files in the worker', () => {
  test('a Teachable Machine export is opened with its labels; CAM does not apply', async () => {
    await send({ type: 'open-model', model: 'stored:untitled', files: await tmFiles('day-night') });
    const ready = await until(() => of('ready').find((r) => r.model === 'stored:untitled'));
    expect(ready.labels).toEqual(['nighttime', 'daytime']);
    expect(ready.origin).toBe('teachable-machine');
    expect(ready.camLayer).toBeNull();
    expect(ready.lastConvLayer).toBe('out_relu');
    expect(ready.methodNotes).toMatch(/CAM does not apply/);
    const r = await explainPhoto(boxedPhotos(SHARED, 1)[0]!.file, 2);
    expect(r.predictions.map((p) => p.label).sort()).toEqual(['daytime', 'nighttime']);
    expect(r.layer).toBe('out_relu');
  }, 120_000);

  test('a partial export is refused naming the missing file, and the model in use stays', async () => {
    // Its own model in use first (whatever other tests left in use), so that "stays" means this one.
    await send({ type: 'open-model', model: 'stored:in-use', files: await tmFiles('day-night') });
    await until(() => of('ready').find((r) => r.model === 'stored:in-use'));
    const failedBefore = of('model-failed').length;
    await send({
      type: 'open-model',
      model: 'stored:partial',
      files: await tmFiles('day-night', ['model.json', 'metadata.json']),
    });
    const failed = (await until(() => of('model-failed')[failedBefore])) as ModelFailedMessage;
    expect(failed).toMatchObject({ model: 'stored:partial', during: 'open', code: 'model-missing' });
    expect(failed.message).toMatch(/weights\.bin/);
    expect(of('ready').some((r) => r.model === 'stored:partial')).toBe(false);
    const r = await explainPhoto(boxedPhotos(SHARED, 1)[0]!.file, 3);
    expect(r.predictions.map((p) => p.label).sort()).toEqual(['daytime', 'nighttime']);
  }, 120_000);
});

import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import type { Explainer } from '../../src/explain/methods/explainer.js';
import type { RgbaImage } from '../../src/explain/runtime/input.js';
import { spearman } from '../../src/explain/evaluation/sanity.js';
import { readImage } from '../../src/node/image-io.js';
import {
  type ExplainSettings,
  type FromWorker,
  type PerturbationMessage,
  type PerturbationSettings,
  PROTOCOL_VERSION,
  type ReadyMessage,
  type ResultMessage,
} from '../../src/protocol.js';
import { ExplainService } from '../../workers/explain-service.js';
import { mirrorExplainer } from '../helpers/engine.js';
import { photo } from '../helpers/shared.js';

// The worker's side of "can the map be trusted?" with the real MobileNet V1 0.75 on a real photo:
// the live cascading randomisation (scramble the top N blocks, then get the real network back bit
// for bit) and occlusion / LIME jobs with progress, cancel and no leaked tensors.

const SETTINGS: ExplainSettings = {
  method: 'layercam',
  layer: 'conv_pw_11_relu',
  reduction: 'logit',
  classIndex: null,
  contrastClass: null,
  compare: null,
  crop: 'center',
  paused: false,
  scramble: 0,
};

const DEFAULTS: PerturbationSettings = {
  maskSize: null,
  stride: null,
  maskValue: null,
  numFeatures: null,
  numSamples: null,
  segmentation: null,
};

/** The dog's head in sherlock.jpg (960×640), as in the still-image e2e test. */
const HEAD = [375, 30, 830, 395] as const;

let explainer: Explainer;
let picture: RgbaImage;
let service: ExplainService;
const posted: FromWorker[] = [];
/** Called with every message the worker posts (the cancel test answers the first progress). */
let onPost: (m: FromWorker) => void = () => undefined;
let imageId = 0;

function results(): ResultMessage[] {
  return posted.filter((m): m is ResultMessage => m.type === 'result');
}

function jobMessages(jobId: number): PerturbationMessage[] {
  return posted.filter((m): m is PerturbationMessage => m.type === 'perturbation' && m.jobId === jobId);
}

/** Waits for a result that `check` accepts, posted after `after` results. */
async function nextResult(after: number, check: (r: ResultMessage) => boolean): Promise<ResultMessage> {
  await vi.waitFor(() => expect(results().slice(after).some(check)).toBe(true), { timeout: 60_000, interval: 5 });
  return results().slice(after).find(check)!;
}

/** Sends the photo as the page does in still-image mode, and waits for its first result. */
async function showPhoto(): Promise<ResultMessage> {
  const before = results().length;
  imageId++;
  const id = imageId;
  const bitmap = Object.assign({ ...picture }, { close: () => undefined });
  await service.handle({ type: 'image', bitmap: bitmap as unknown as ImageBitmap, imageId: id });
  return nextResult(before, (r) => r.source.kind === 'image' && r.source.imageId === id);
}

beforeAll(async () => {
  explainer = await mirrorExplainer('wasm');
  picture = await readImage(photo('sherlock_golden_retriever.jpg'));
  service = new ExplainService(
    (m) => {
      posted.push(m);
      onPost(m);
    },
    {
      chooseBackend: async () => ({ name: 'wasm', notes: [] }),
      restartBackend: async () => ({ name: 'wasm', notes: [] }),
      fetchExplainer: async () => explainer,
    },
  );
  await service.handle({
    type: 'init',
    version: PROTOCOL_VERSION,
    backend: 'wasm',
    model: 'mobilenet_v1_0.75_224',
    modelBaseUrl: '/models',
    settings: { ...SETTINGS },
  });
});

afterAll(() => {
  service.dispose();
  explainer.dispose();
});

describe('scrambling the top blocks live (cascading randomisation)', () => {
  test('the ready message names the blocks from the logits down', () => {
    const ready = posted.find((m): m is ReadyMessage => m.type === 'ready')!;
    expect(ready.scrambleBlocks).toEqual([
      'logits',
      ...Array.from({ length: 13 }, (_, i) => `block ${13 - i}`),
      'conv1',
    ]);
  });

  test('scrambled output differs; back at 0 the same frame gives bit-identical scores and map, and no tensor is left', async () => {
    const real = await showPhoto();
    expect(real.scrambled).toBe(0);
    expect(real.predictions[0]).toMatchObject({ classIndex: 207, label: 'golden retriever' });
    const tensorsReal = tf.memory().numTensors;

    let count = results().length;
    await service.handle({ type: 'settings', settings: { scramble: 3 } });
    const scrambled = await nextResult(count, (r) => r.scrambled === 3);
    // The network is destroyed from the logits down: the dog is gone from the prediction, and the map changes.
    expect(scrambled.predictions.find((p) => p.classIndex === 207)?.score ?? 0).toBeLessThan(0.05);
    expect(spearman(real.heatmap.data, scrambled.heatmap.data)).toBeLessThan(0.9);
    // The copy's fresh weights are tensors of its own while it lives.
    expect(tf.memory().numTensors).toBeGreaterThan(tensorsReal);

    // Every block: clamped to the 15 the network has.
    count = results().length;
    await service.handle({ type: 'settings', settings: { scramble: 99 } });
    const all = await nextResult(count, (r) => r.scrambled === 15);
    expect(Array.from(all.heatmap.data)).not.toEqual(Array.from(scrambled.heatmap.data));

    count = results().length;
    await service.handle({ type: 'settings', settings: { scramble: 0 } });
    const back = await nextResult(count, (r) => r.scrambled === 0);
    expect(back.predictions).toEqual(real.predictions);
    expect(back.target).toEqual(real.target);
    expect(Array.from(back.heatmap.data)).toEqual(Array.from(real.heatmap.data));
    expect(tf.memory().numTensors).toBe(tensorsReal);
    expect(back.numTensors).toBe(real.numTensors);
  });
});

describe('occlusion and LIME jobs in the worker', () => {
  test('occlusion reports increasing progress in forward passes, then a map peaking on the dog', async () => {
    await showPhoto();
    const before = tf.memory().numTensors;
    await service.handle({
      type: 'perturb',
      jobId: 1,
      method: 'occlusion',
      classIndex: null,
      options: { ...DEFAULTS, maskSize: 64, stride: 32 },
    });
    await service.perturbation!.finished;
    const messages = jobMessages(1);
    const progress = messages.flatMap((m) => (m.state === 'progress' ? [m] : []));
    // 7×7 patch positions in batches of 4 on a CPU backend: 4, 8, …, 48, 49.
    expect(progress.map((m) => m.done)).toEqual([...Array.from({ length: 12 }, (_, i) => 4 * (i + 1)), 49]);
    expect(progress.every((m) => m.total === 49)).toBe(true);
    const last = messages.at(-1)!;
    expect(last.state).toBe('done');
    if (last.state !== 'done') return;
    const r = last.result;
    expect(r.imageId).toBe(imageId);
    expect(r.target).toMatchObject({ classIndex: 207, label: 'golden retriever' });
    expect(r.details).toEqual({ maskSize: 64, stride: 32 });
    expect(r.forwardPasses).toBe(50);
    expect([r.heatmap.width, r.heatmap.height]).toEqual([7, 7]);
    expect(r.region).toEqual({ x: 160, y: 0, width: 640, height: 640 });
    // The cell whose patch hurts the score most lies on the dog's head.
    const data = r.heatmap.data;
    const peak = data.indexOf(Math.max(...data));
    const x = r.region.x + (((peak % 7) + 0.5) / 7) * r.region.width;
    const y = r.region.y + ((Math.floor(peak / 7) + 0.5) / 7) * r.region.height;
    expect(x).toBeGreaterThanOrEqual(HEAD[0]);
    expect(x).toBeLessThanOrEqual(HEAD[2]);
    expect(y).toBeGreaterThanOrEqual(HEAD[1]);
    expect(y).toBeLessThanOrEqual(HEAD[3]);
    expect(tf.memory().numTensors).toBe(before);
  });

  test('cancel stops LIME between batches: the worker answers cancelled, not done, and frees its tensors', async () => {
    const before = tf.memory().numTensors;
    // The cancel arrives as a later task (as a worker message does), not from inside the job: the job
    // must let the event loop run between batches for it to get through.
    onPost = (m) => {
      if (m.type === 'perturbation' && m.state === 'progress' && m.done === 4)
        setTimeout(() => void service.handle({ type: 'perturb-cancel', jobId: 2 }), 0);
    };
    await service.handle({
      type: 'perturb',
      jobId: 2,
      method: 'lime',
      classIndex: null,
      options: { ...DEFAULTS, segmentation: 'grid' },
    });
    await service.perturbation!.finished;
    onPost = () => undefined;
    const messages = jobMessages(2);
    const progress = messages.flatMap((m) => (m.state === 'progress' ? [m] : []));
    // Stopped within a batch or two of the first (4 of 2048 samples each).
    expect(progress[0]).toMatchObject({ done: 4, total: 2048 });
    expect(progress.length).toBeLessThanOrEqual(3);
    expect(messages.at(-1)!.state).toBe('cancelled');
    expect(messages.filter((m) => m.state !== 'progress')).toHaveLength(1);
    expect(tf.memory().numTensors).toBe(before);
  });

  test('in camera mode the worker refuses: these methods work on still pictures', async () => {
    await service.handle({ type: 'camera' });
    await service.handle({ type: 'perturb', jobId: 3, method: 'occlusion', classIndex: null, options: DEFAULTS });
    const [only, ...rest] = jobMessages(3);
    expect(rest).toEqual([]);
    expect(only).toMatchObject({ state: 'failed', message: 'Occlusion and LIME explain still pictures only.' });
  });
});

/**
 * `npm run bench:teach -- [--backend wasm|cpu] [--per-class N] [--epochs N]`: how long teaching
 * takes under Node. Pooled features of N photos per class (dogs, birds, insects from
 * ../shared/images/imagenet-samples) with the default MobileNet, then the head fitted on them, and
 * the taught model checked on validation photos (imagenet-val-bbox-300).
 */
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { DEFAULT_MODEL_ID } from '../models/registry.js';
import { openModel } from '../src/explain/models/open-model.js';
import { taughtModelFiles } from '../src/explain/teach/taught-model-files.js';
import { PooledFeatures, trainHead } from '../src/explain/teach/teach.js';
import { type NodeBackend, useNodeBackend } from '../src/node/backend.js';
import { readImage } from '../src/node/image-io.js';
import { loadExplainerFromDisk } from '../src/node/load-model.js';
import { registeredArtifacts } from '../src/node/model-path.js';
import { PROJECT_ROOT } from '../src/node/paths.js';
import { boxedPhotos, TAUGHT_CLASSES, trainingPhotos } from '../tests/helpers/teach-photos.js';

const { values: o } = parseArgs({
  options: {
    backend: { type: 'string', default: 'wasm' },
    'per-class': { type: 'string', default: '20' },
    epochs: { type: 'string', default: '40' },
  },
});
const SHARED = path.join(PROJECT_ROOT, '..', 'shared');
const perClass = Number(o['per-class']);
const epochs = Number(o.epochs);
await useNodeBackend(o.backend as NodeBackend);
const base = await loadExplainerFromDisk(DEFAULT_MODEL_ID);
const features = new PooledFeatures(base);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

// Decoding is not timed: in the app the camera hands over pixels.
const photos = trainingPhotos(SHARED, perClass);
const images = await Promise.all(photos.map((ps) => Promise.all(ps.map((p) => readImage(p.file)))));
await features.of(images[0]![0]!); // warm-up: the first pass pays for kernel set-up
const perImage: number[] = [];
const classes = [];
for (const [i, list] of images.entries()) {
  const examples: Float32Array[] = [];
  for (const image of list) {
    const t0 = performance.now();
    examples.push(await features.of(image));
    perImage.push(performance.now() - t0);
  }
  classes.push({ name: TAUGHT_CLASSES[i]!.name, examples });
}
const epochMs: number[] = [];
let last = performance.now();
const head = await trainHead(classes, {
  epochs,
  onEpoch: () => {
    const now = performance.now();
    epochMs.push(now - last);
    last = now;
  },
});

const files = taughtModelFiles(head, { id: DEFAULT_MODEL_ID, pool: features.pool, inputSize: 224 }, 'bench');
const taught = await openModel((name) => Promise.resolve(files[name as keyof typeof files] ?? null), {
  location: 'bench',
  loadBase: registeredArtifacts(),
});
let correct = 0;
const judged = boxedPhotos(SHARED, 10);
for (const p of judged) {
  const r = await taught.explainer.classify(await readImage(p.file), { crop: 'full', topK: 1 });
  correct += Number(r.predictions[0]!.classIndex === p.label);
}
taught.explainer.dispose();
base.dispose();

const examples = classes.reduce((n, c) => n + c.examples.length, 0);
console.log(`# Teaching under Node — ${os.cpus()[0]?.model ?? 'cpu'} ×${os.cpus().length}, Node ${process.version}, backend ${tf.getBackend()}

| what | figure |
|---|---|
| classes × photos | ${classes.length} × ${perClass} (${examples} examples; ${head.classes.map((c) => c.heldBack).reduce((a, b) => a + b, 0)} held back) |
| pooled features per photo (${DEFAULT_MODEL_ID}, median) | ${median(perImage).toFixed(1)} ms |
| all features | ${perImage.reduce((a, b) => a + b, 0).toFixed(0)} ms |
| training, ${epochs} epochs (Dense softmax, Adam) | ${head.trainMs.toFixed(0)} ms (median epoch ${median(epochMs).toFixed(1)} ms) |
| held-back accuracy | ${head.accuracy === null ? '–' : `${(head.accuracy * 100).toFixed(1)}%`} (${head.classes.map((c) => `${c.name} ${c.correct}/${c.heldBack}`).join(', ')}) |
| accuracy on ${judged.length} validation photos | ${((100 * correct) / judged.length).toFixed(1)}% |`);

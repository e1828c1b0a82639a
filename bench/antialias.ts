/**
 * `tsc -p tsconfig.bench.json && node build/bench/bench/antialias.js [--backend wasm] [--model ID,…] [--json FILE]`:
 * do predictions get worse now that the input kernel area-averages a shrink of more than 2×
 * (src/explain/runtime/kernels/reference.ts)? Top-1 accuracy and the mean probability of the true
 * class, before (plain bilinear sampling: tfjs's resizeBilinear with half-pixel centres on the
 * crop, the old input) and after (the engine's input kernel), on the 300 dev photos
 * (../shared/images/imagenet-val-bbox-300, labels.tsv) and the big photos (../shared/images/photos,
 * labels.tsv), each with the centre-square crop and the whole picture squashed. `--photos`: the
 * photos only; `--verbose`: each photo's top-1 and true-class probability.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { DEFAULT_MODEL_ID, FAST_MODEL_ID } from '../models/registry.js';
import type { Explainer } from '../src/explain/methods/explainer.js';
import type { RgbaImage } from '../src/explain/runtime/input.js';
import { type CropPolicy, cropRegion } from '../src/explain/runtime/preprocess.js';
import { type NodeBackend, useNodeBackend } from '../src/node/backend.js';
import { readImage } from '../src/node/image-io.js';
import { loadExplainerFromDisk } from '../src/node/load-model.js';
import { PROJECT_ROOT } from '../src/node/paths.js';

const { values: o } = parseArgs({
  options: {
    backend: { type: 'string', default: 'wasm' },
    model: { type: 'string' },
    json: { type: 'string' },
    verbose: { type: 'boolean' },
    photos: { type: 'boolean' },
  },
});

const IMAGES = path.join(PROJECT_ROOT, '..', 'shared', 'images');

interface Item {
  file: string;
  /** Any of these is a right answer (a photo with several objects lists them all). */
  classes: number[];
  width: number;
  height: number;
}

function readLabels(dir: string, column: string): Item[] {
  const [head, ...rows] = fs.readFileSync(path.join(dir, 'labels.tsv'), 'utf8').trim().split('\n');
  const names = head!.split('\t');
  const at = (row: string[], name: string) => row[names.indexOf(name)]!;
  return rows
    .map((line) => line.split('\t'))
    .map((row) => ({
      file: path.join(dir, at(row, 'file')),
      classes: at(row, column)
        .split(/[;|]/)
        .filter((c) => /^\d+$/.test(c))
        .map(Number),
      width: Number(at(row, 'width')),
      height: Number(at(row, 'height')),
    }))
    .filter((item) => item.classes.length > 0);
}

/** The old input: the crop resized by tfjs's bilinear sampling (half-pixel centres), handed over at the input size. */
function bilinearInput(image: RgbaImage, crop: CropPolicy, size: readonly [number, number]): tf.Tensor3D {
  const r = cropRegion(image.width, image.height, size, crop);
  return tf.tidy(() => {
    const all = tf.tensor3d(new Int32Array(image.data), [image.height, image.width, 4], 'int32');
    const cropped = tf.cast(tf.slice(all, [r.y, r.x, 0], [r.height, r.width, 3]), 'float32') as tf.Tensor3D;
    return tf.image.resizeBilinear(cropped, [size[0], size[1]], false, true);
  });
}

interface Score {
  n: number;
  top1: number;
  probability: number;
  changed: number;
}

async function score(explainer: Explainer, items: Item[], crop: CropPolicy): Promise<{ before: Score; after: Score }> {
  const before: Score = { n: 0, top1: 0, probability: 0, changed: 0 };
  const after: Score = { n: 0, top1: 0, probability: 0, changed: 0 };
  const n = explainer.network.numClasses;
  for (const item of items) {
    const image = await readImage(item.file);
    const old = bilinearInput(image, crop, explainer.inputSize);
    // At the input size the kernel's sampling is the identity: the network sees the old input exactly.
    const a = await explainer.classify(old, { crop: 'full', topK: n });
    old.dispose();
    const b = await explainer.classify(image, { crop, topK: n });
    for (const [s, result] of [
      [before, a],
      [after, b],
    ] as const) {
      const top = result.predictions[0]!.classIndex;
      s.n++;
      if (item.classes.includes(top)) s.top1++;
      s.probability += Math.max(
        ...result.predictions.filter((p) => item.classes.includes(p.classIndex)).map((p) => p.score),
      );
    }
    if (a.predictions[0]!.classIndex !== b.predictions[0]!.classIndex) after.changed++;
    if (o.verbose) {
      const p = (r: typeof a) =>
        `${r.predictions[0]!.label} ${r.predictions[0]!.score.toFixed(3)}, p(true) ${Math.max(...r.predictions.filter((q) => item.classes.includes(q.classIndex)).map((q) => q.score)).toFixed(3)}`;
      console.error(`  ${path.basename(item.file)} ${crop}: before ${p(a)}; after ${p(b)}`);
    }
  }
  return { before, after };
}

const described = await useNodeBackend(o.backend as NodeBackend);
const sets: [string, Item[]][] = [
  ['dev photos (300, 227×227)', o.photos ? [] : readLabels(path.join(IMAGES, 'imagenet-val-bbox-300'), 'class_index')],
  ['photos (all labelled)', readLabels(path.join(IMAGES, 'photos'), 'expected_class_indices')],
];
// The photos whose crop shrinks by more than 2× (where the kernel now area-averages).
sets.push(['photos shrunk > 2×', sets[1]![1].filter((item) => Math.min(item.width, item.height) / 224 > 2)]);
const rows: string[] = [];
const json: object[] = [];
for (const model of (o.model ?? `${DEFAULT_MODEL_ID},${FAST_MODEL_ID}`).split(',')) {
  const explainer = await loadExplainerFromDisk(model);
  for (const [name, items] of sets) {
    if (items.length === 0 || (o.verbose && name.startsWith('photos shrunk'))) continue;
    for (const crop of ['center', 'full'] as const) {
      const { before, after } = await score(explainer, items, crop);
      const pct = (s: Score) => `${((100 * s.top1) / s.n).toFixed(1)}% (${s.top1}/${s.n})`;
      const p = (s: Score) => (s.probability / s.n).toFixed(4);
      rows.push(
        `| ${model} | ${name} | ${crop} | ${pct(before)} | ${pct(after)} | ${p(before)} | ${p(after)} | ${after.changed} |`,
      );
      json.push({ model, set: name, crop, before, after });
      console.error(rows.at(-1));
    }
  }
  explainer.dispose();
}
console.log(
  `# Area-averaged shrink vs plain bilinear — backend ${described}\n\n` +
    '| model | images | crop | top-1 before | top-1 after | mean p(true) before | after | top-1 changed |\n' +
    '|---|---|---|---|---|---|---|---|\n' +
    rows.join('\n'),
);
if (o.json) fs.writeFileSync(o.json, `${JSON.stringify({ date: new Date().toISOString(), results: json }, null, 2)}\n`);

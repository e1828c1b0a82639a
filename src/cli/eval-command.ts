import fs from 'node:fs/promises';
import path from 'node:path';
import { DEFAULT_MODEL_ID, defaultView } from '../../models/registry.js';
import { WhyCamError } from '../explain/errors.js';
import { DEFAULT_FAITHFULNESS } from '../explain/evaluation/faithfulness.js';
import {
  type BoxedImage,
  EVAL_METHODS,
  type EvalMethod,
  type EvalReport,
  evaluateDevSet,
} from '../explain/evaluation/dev-set.js';
import type { Box } from '../explain/evaluation/metrics.js';
import { isMethod, METHOD_NAMES, METHODS, REDUCTIONS } from '../explain/methods/names.js';
import { PERTURBATION_METHOD_NAMES, PERTURBATION_METHODS } from '../explain/perturbation/names.js';
import { CROP_POLICIES } from '../explain/runtime/preprocess.js';
import { NODE_BACKENDS, useNodeBackend } from '../node/backend.js';
import { readImage } from '../node/image-io.js';
import { loadModelOption, MODEL_OPTIONS, MODEL_USAGE } from '../node/model-path.js';
import { ProgressBar } from '../node/progress.js';
import { listOf, numberIn, oneOf, parseCommand, viewText } from './args.js';
import { perturbationOptions, PERTURBATION_OPTIONS, PERTURBATION_USAGE } from './perturbation-options.js';

export type { EvalReport } from '../explain/evaluation/dev-set.js';

export const EVAL_USAGE = `Usage: whycam eval --images DIR --boxes boxes.json [options]

Scores how well each method localises the ground-truth class against bounding boxes and how
faithful its map is to the network (deletion / insertion), next to two baselines: a centre prior
(ImageNet photos are centred, so a map that is just the centre scores well) and random maps.

Defaults: the model's default view from the registry, the map the app shows
(${DEFAULT_MODEL_ID}: ${viewText(defaultView(DEFAULT_MODEL_ID))}): eval asks how good what a user sees is.
\`whycam explain\` defaults to Grad-CAM at the last conv map, the textbook method (MATLAB's
gradCAM) to check a map against.

  --images DIR        folder with the images named in boxes.json
  --boxes FILE        [{file, width, height, class_index, boxes: [[xmin, ymin, xmax, ymax], ...]}, ...];
                      "label": NAME in place of class_index names a class of the model's own labels
  --method LIST       comma-separated: ${[...METHODS, ...PERTURBATION_METHODS].join(', ')}
                      (default: the model's default view; with --layer and no --method: ${METHODS.join(', ')})
  --layer LIST        comma-separated feature layers, or auto = the last conv map (default: the view's layer)
  --reduction R       ${REDUCTIONS.join(' | ')} (default logit)
  --steps N           deletion/insertion steps (default ${DEFAULT_FAITHFULNESS.steps}; 0 skips them)
  --blur SIGMA        σ in input pixels of the insertion start image's Gaussian blur (default ${DEFAULT_FAITHFULNESS.blurSigma})
  --random-seeds N    random maps per image for the random baseline (default 3)
  --limit N           only the first N images of boxes.json
${PERTURBATION_USAGE}
  --crop P            center | full (default full)
${MODEL_USAGE}
  --backend NAME      ${NODE_BACKENDS.join(' | ')} (default wasm)
  --json              print the scores as one JSON object

Scores: pointing game (the heatmap's maximum falls inside a box), the same on images whose boxes
cover less than half the picture, energy in box (heatmap mass inside the boxes ÷ total), and
localisation accuracy (box of the largest region above 15% of the maximum has IoU ≥ 0.5 with a
ground-truth box, and the top-1 class is right). Deletion / insertion (Petsiuk et al. 2018): the
ground-truth class's probability as the map's pixels (upsampled to the input on pixel centres) are
set, highest first, to mid-grey (0 in the network's input units), or restored, highest first,
into a blurred copy; the areas under the curves (deletion: lower is better; insertion: higher).`;

const OPTIONS = {
  images: { type: 'string' },
  boxes: { type: 'string' },
  method: { type: 'string' },
  layer: { type: 'string' },
  reduction: { type: 'string' },
  crop: { type: 'string' },
  ...MODEL_OPTIONS,
  backend: { type: 'string' },
  steps: { type: 'string' },
  blur: { type: 'string' },
  'random-seeds': { type: 'string' },
  limit: { type: 'string' },
  ...PERTURBATION_OPTIONS,
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

export async function evalCommand(args: string[]): Promise<number> {
  const { values: o } = parseCommand(args, OPTIONS, EVAL_USAGE);
  if (o.help) {
    console.log(EVAL_USAGE);
    return 0;
  }
  if (!o.images || !o.boxes) throw new WhyCamError('bad-option', 'eval needs --images and --boxes.', EVAL_USAGE);
  const asked = o.method === undefined ? undefined : listOf(o.method, EVAL_METHODS, '--method', EVAL_METHODS);
  const reduction = oneOf(o.reduction, REDUCTIONS, '--reduction', 'logit');
  const cropOption = oneOf(o.crop, CROP_POLICIES, '--crop', 'full');
  const backend = oneOf(o.backend, NODE_BACKENDS, '--backend', 'wasm');
  const steps = numberIn(o.steps, '--steps', 0, 1000, DEFAULT_FAITHFULNESS.steps);
  const blurSigma = numberIn(o.blur, '--blur', 0, 50, DEFAULT_FAITHFULNESS.blurSigma);
  const seeds = numberIn(o['random-seeds'], '--random-seeds', 1, 100, 3);
  const limit = numberIn(o.limit, '--limit', 1, 1e9, Infinity);
  if (!Number.isInteger(steps) || !Number.isInteger(seeds))
    throw new WhyCamError('bad-option', '--steps and --random-seeds take whole numbers.');
  const boxed = (await readBoxes(o.boxes, o.images)).slice(0, limit);

  await useNodeBackend(backend);
  const { explainer, name: model, view, crop: trainedCrop, summary } = await loadModelOption(o);
  // What was recognised and assumed of the user's own model: on stderr, also with --json.
  for (const line of summary) console.error(line);
  const crop = o.crop === undefined ? (trainedCrop ?? cropOption) : cropOption;
  try {
    const entries = boxed.map((e) =>
      e.label === undefined ? e : { ...e, class_index: explainer.labels.resolve(e.label) },
    );
    const bar = new ProgressBar('eval', entries.length);
    const { report } = await evaluateDevSet(explainer, entries, {
      ...(asked !== undefined ? { methods: asked } : {}),
      ...(o.layer !== undefined ? { layers: o.layer } : {}),
      reduction,
      crop,
      view,
      model,
      steps,
      blurSigma,
      seeds,
      perturbation: perturbationOptions(o, explainer.inputRange),
      readImage,
      onProgress: (done, _total, file) => bar.update(done, path.basename(file)),
    });
    bar.finish(`eval: ${report.n} images, ${Object.keys(report.methods).length} method/layer pairs.`);
    console.log(o.json ? JSON.stringify(report) : formatReport(report, backend));
    return 0;
  } finally {
    explainer.dispose();
  }
}

async function readBoxes(boxesFile: string, imagesDir: string): Promise<BoxedImage[]> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await fs.readFile(boxesFile, 'utf8'));
  } catch (e) {
    throw new WhyCamError('bad-option', `${boxesFile} cannot be read as JSON (${(e as Error).message}).`);
  }
  if (!Array.isArray(parsed) || parsed.length === 0) {
    throw new WhyCamError(
      'bad-option',
      `${boxesFile} must be a non-empty JSON array of {file, width, height, class_index or label, boxes}.`,
    );
  }
  return parsed.map((e: Partial<BoxedImage>, i) => {
    if (
      typeof e.file !== 'string' ||
      !(Number.isInteger(e.class_index) || typeof e.label === 'string') ||
      !Array.isArray(e.boxes) ||
      e.boxes.length === 0 ||
      !(Number(e.width) > 0 && Number(e.height) > 0)
    ) {
      throw new WhyCamError(
        'bad-option',
        `${boxesFile}: entry ${i} lacks file, width, height, class_index (or label) or boxes.`,
      );
    }
    // Boxes rescaled by a data set's publisher carry fractions; the metrics work on whole pixels.
    const boxes = e.boxes.map((b) => b.map((v) => Math.round(v)) as unknown as Box);
    return { ...(e as BoxedImage), boxes, file: path.join(imagesDir, e.file) };
  });
}

const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;

function formatReport(r: EvalReport, backend: string): string {
  const frac = (x: number, of: number): string => `${Math.round(x * of)}/${of} (${pct(x)})`;
  const auc = (x: number | null): string => (x === null ? '–' : x.toFixed(3));
  const header = [
    'method',
    'layer',
    'pointing game',
    'pointing, small boxes',
    'energy in box',
    'localisation',
    'deletion ↓',
    'insertion ↑',
    'ms/image',
  ];
  const name = (m: EvalMethod): string => (isMethod(m) ? METHOD_NAMES[m] : PERTURBATION_METHOD_NAMES[m]);
  const lines = Object.entries(r.methods).map(([key, m]) => [
    `${name(m.method)}${key === r.defaultView ? ' (default view)' : ''}`,
    m.layer,
    frac(m.pointingGame, r.n),
    frac(m.pointingGameSmall, r.nSmall),
    m.energyInBox.toFixed(3),
    frac(m.localization, r.n),
    auc(m.deletionAuc),
    auc(m.insertionAuc),
    m.msPerImage.toFixed(1),
  ]);
  lines.push([
    'centre prior',
    '(baseline)',
    frac(r.baseline.pointingGame, r.n),
    frac(r.baseline.pointingGameSmall, r.nSmall),
    r.baseline.energyInBox.toFixed(3),
    frac(r.baseline.localization, r.n),
    auc(r.baseline.deletionAuc),
    auc(r.baseline.insertionAuc),
    '–',
  ]);
  const rb = r.randomBaseline;
  lines.push([
    `random map (${rb.seeds} seeds)`,
    `(baseline, ${rb.grid[0]}×${rb.grid[1]})`,
    frac(rb.pointingGame, r.n),
    frac(rb.pointingGameSmall, r.nSmall),
    rb.energyInBox.toFixed(3),
    frac(rb.localization, r.n),
    auc(rb.deletionAuc),
    auc(rb.insertionAuc),
    '–',
  ]);
  lines.push(['uniform map', "(boxes' share)", '–', '–', r.uniformEnergyInBox.toFixed(3), '–', '–', '–', '–']);
  const widths = header.map((h, c) => Math.max(h.length, ...lines.map((l) => l[c]!.length)));
  const row = (cells: string[]): string => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  const out = [
    `whycam eval: ${r.n} images (${r.nSmall} with boxes under half the picture), model ${r.model}, crop ${r.crop}, reduction ${r.reduction}, backend ${backend}`,
    row(header),
    row(widths.map((w) => '-'.repeat(w))),
    ...lines.map(row),
  ];
  const f = r.faithfulness;
  if (f) {
    out.push(
      `deletion/insertion: ${f.steps} steps of ${(100 / f.steps).toFixed(1)}% of the ${f.inputSize[0]}×${f.inputSize[1]} input's pixels; deleted pixels set to ` +
        `${f.deletionValue} in the network's input units (mid-grey, the middle of its input range); insertion starts from a Gaussian blur, σ = ${f.blurSigma} px, ${f.blurKernel}×${f.blurKernel} kernel.`,
    );
  }
  if (r.perturbation.occlusion) out.push(`occlusion: ${JSON.stringify(r.perturbation.occlusion)}`);
  if (r.perturbation.lime) out.push(`LIME: ${JSON.stringify(r.perturbation.lime)}`);
  for (const s of r.skipped) out.push(`skipped ${METHOD_NAMES[s.method]} at ${s.layer}: ${s.reason}`);
  for (const w of r.warnings) out.push(`note: ${w}`);
  return out.join('\n');
}

import fs from 'node:fs/promises';
import path from 'node:path';
import { DEFAULT_MODEL_ID } from '../../models/registry.js';
import { isWhyCamError, WhyCamError } from '../explain/errors.js';
import type { ExplainRequest, Heatmap } from '../explain/methods/types.js';
import {
  type Curves,
  DEFAULT_FAITHFULNESS,
  FaithfulnessProbe,
  mulberry32,
} from '../explain/evaluation/faithfulness.js';
import { heatmapPeak, upsampleHeatmap } from '../explain/methods/heatmap.js';
import { DEFAULT_LIME } from '../explain/perturbation/lime.js';
import { isMethod, METHOD_NAMES, METHODS, type Method, REDUCTIONS } from '../explain/methods/names.js';
import {
  type Box,
  boxFromMap,
  boxUnionMask,
  centreGaussian,
  energyInMask,
  iou,
  maskShare,
  pointInBoxes,
} from '../explain/evaluation/metrics.js';
import {
  explainByPerturbation,
  networkInput,
  PERTURBATION_METHOD_NAMES,
  PERTURBATION_METHODS,
  type PerturbationMethod,
} from '../explain/perturbation/perturbation.js';
import { CROP_POLICIES, type Region } from '../explain/runtime/preprocess.js';
import { methodWarning } from '../explain/methods/warnings.js';
import { NODE_BACKENDS, useNodeBackend } from '../node/backend.js';
import { readImage } from '../node/image-io.js';
import { loadModelOption } from '../node/model-path.js';
import { ProgressBar } from '../node/progress.js';
import { listOf, numberIn, oneOf, parseCommand } from './args.js';
import { perturbationOptions, PERTURBATION_OPTIONS, PERTURBATION_USAGE } from './perturbation-options.js';

export const EVAL_USAGE = `Usage: whycam eval --images DIR --boxes boxes.json [options]

Scores how well each method localises the ground-truth class against bounding boxes and how
faithful its map is to the network (deletion / insertion), next to two baselines: a centre prior
(ImageNet photos are centred, so a map that is just the centre scores well) and random maps.

  --images DIR        folder with the images named in boxes.json
  --boxes FILE        [{file, width, height, class_index, boxes: [[xmin, ymin, xmax, ymax], ...]}, ...];
                      "label": NAME in place of class_index names a class of the model's own labels
  --method LIST       comma-separated: ${[...METHODS, ...PERTURBATION_METHODS].join(', ')}
                      (default: the app's default view, LayerCAM at the model's view layer; with
                      --layer and no --method: ${METHODS.join(', ')})
  --layer LIST        comma-separated feature layers, or auto (default auto = the last conv map)
  --reduction R       ${REDUCTIONS.join(' | ')} (default logit)
  --steps N           deletion/insertion steps (default ${DEFAULT_FAITHFULNESS.steps}; 0 skips them)
  --blur SIGMA        σ in input pixels of the insertion start image's Gaussian blur (default ${DEFAULT_FAITHFULNESS.blurSigma})
  --random-seeds N    random maps per image for the random baseline (default 3)
  --limit N           only the first N images of boxes.json
${PERTURBATION_USAGE}
  --crop P            center | full (default full)
  --model ID|DIR      default ${DEFAULT_MODEL_ID}; or the folder (or .zip) of a Teachable Machine export or a taught model
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
  model: { type: 'string' },
  backend: { type: 'string' },
  steps: { type: 'string' },
  blur: { type: 'string' },
  'random-seeds': { type: 'string' },
  limit: { type: 'string' },
  ...PERTURBATION_OPTIONS,
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

interface BoxedImage {
  file: string;
  width: number;
  height: number;
  class_index: number;
  /** A class of the model's own labels, in place of class_index. */
  label?: string;
  boxes: Box[];
}

export interface Scores {
  pointingGame: number;
  pointingGameSmall: number;
  energyInBox: number;
  localization: number;
  msPerImage: number;
  /** Mean area under the deletion curve (lower is better); null when --steps 0. */
  deletionAuc: number | null;
  /** Mean area under the insertion curve (higher is better); null when --steps 0. */
  insertionAuc: number | null;
}

type EvalMethod = Method | PerturbationMethod;

export interface EvalReport {
  n: number;
  nSmall: number;
  model: string;
  crop: string;
  reduction: string;
  /** Keyed by method, or by `method@layer` when several layers (or the default view) were asked for. */
  methods: Record<string, Scores & { method: EvalMethod; layer: string }>;
  /** The key in `methods` of the app's default view, or null when it was not evaluated. */
  defaultView: string | null;
  /** The centre prior: the centre point for pointing, a centred Gaussian (σ = ¼ side) otherwise. */
  baseline: Scores;
  /** Random maps (uniform noise on the default view's grid, upsampled like a map), averaged over seeds. */
  randomBaseline: Scores & { seeds: number; grid: [number, number] };
  /** Energy-in-box of a uniform map: the share of the pictures the boxes cover. */
  uniformEnergyInBox: number;
  /** How deletion / insertion were run; null when --steps 0. */
  faithfulness: {
    steps: number;
    blurSigma: number;
    blurKernel: number;
    deletionValue: number;
    inputSize: [number, number];
  } | null;
  /** Settings of the perturbation methods, when evaluated. */
  perturbation: { occlusion?: Record<string, unknown>; lime?: Record<string, unknown> };
  skipped: { method: Method; layer: string; reason: string }[];
  /** Cautions about methods at layers where they are known to mislead. */
  warnings: string[];
}

interface Tally {
  hits: number;
  smallHits: number;
  energy: number;
  located: number;
  ms: number;
  deletion: number;
  insertion: number;
}

const emptyTally = (): Tally => ({ hits: 0, smallHits: 0, energy: 0, located: 0, ms: 0, deletion: 0, insertion: 0 });

interface Row {
  key: string;
  method: EvalMethod;
  layer: string;
  request?: ExplainRequest & { layer: string };
}

export async function evalCommand(args: string[]): Promise<number> {
  const { values: o } = parseCommand(args, OPTIONS, EVAL_USAGE);
  if (o.help) {
    console.log(EVAL_USAGE);
    return 0;
  }
  if (!o.images || !o.boxes) throw new WhyCamError('bad-option', 'eval needs --images and --boxes.', EVAL_USAGE);
  const allMethods: readonly EvalMethod[] = [...METHODS, ...PERTURBATION_METHODS];
  const asked = o.method === undefined ? undefined : listOf(o.method, allMethods, '--method', allMethods);
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
  const { explainer, name: modelId, view: modelView, crop: trainedCrop } = await loadModelOption(o.model);
  const crop = o.crop === undefined ? (trainedCrop ?? cropOption) : cropOption;
  const perturbation = perturbationOptions(o, explainer.inputRange);
  const entries = boxed.map((e) =>
    e.label === undefined ? e : { ...e, class_index: explainer.labels.resolve(e.label) },
  );
  try {
    const defaultViewOnly = asked === undefined && o.layer === undefined;
    const methods = asked ?? (defaultViewOnly ? [modelView.method] : METHODS);
    const layers = [
      ...new Set(
        (defaultViewOnly ? modelView.layer : (o.layer ?? 'auto'))
          .split(',')
          .map((l) => explainer.network.layer(l.trim()).name),
      ),
    ];
    const skipped: EvalReport['skipped'] = [];
    const rows: Row[] = [];
    for (const method of methods.filter((m) => !isMethod(m))) rows.push({ key: method, method, layer: '(input)' });
    for (const layer of layers) {
      for (const method of methods.filter(isMethod)) {
        const request = { method, layer, reduction };
        try {
          explainer.resolve(request);
        } catch (e) {
          if (!isWhyCamError(e) || e.code !== 'method-unavailable') throw e;
          skipped.push({ method, layer, reason: e.message.split('\n')[0]! });
          continue;
        }
        rows.push({
          key: layers.length > 1 || defaultViewOnly ? `${method}@${layer}` : method,
          method,
          layer,
          request,
        });
      }
    }
    rows.sort((a, b) => Number(isMethod(b.method)) - Number(isMethod(a.method)));
    const warnings = [
      ...new Set(
        rows
          .flatMap((r) => (isMethod(r.method) ? [methodWarning(r.method, r.layer, explainer.network)] : []))
          .filter((w): w is string => !!w),
      ),
    ];
    const defaultView =
      rows.find(
        (r) => r.method === modelView.method && r.layer === modelView.layer && reduction === modelView.reduction,
      )?.key ?? null;
    const view = explainer.network.layer(modelView.layer);
    const [inH, inW] = explainer.inputSize;
    const inputRegion: Region = { x: 0, y: 0, width: inW, height: inH };

    // The first call compiles kernels and allocates; keep it out of the ms/image figures.
    await explainer.warmUp(rows.flatMap((r) => (r.request ? [r.request] : [])));
    const tallies = new Map(rows.map((r) => [r.key, emptyTally()]));
    const baseline = emptyTally();
    const random = emptyTally();
    let nSmall = 0;
    let boxShareSum = 0;
    const bar = new ProgressBar('eval', entries.length);
    for (const [i, entry] of entries.entries()) {
      bar.update(i, path.basename(entry.file));
      const image = await readImage(entry.file);
      const { width, height } = image;
      const boxes = scaleBoxes(entry, width, height);
      const mask = boxUnionMask(width, height, boxes);
      const share = maskShare(mask);
      const small = share < 0.5;
      boxShareSum += share;
      if (small) nSmall++;
      const { x } = await networkInput(explainer, image, crop);
      const probe =
        steps > 0 ? new FaithfulnessProbe(explainer.network, x, entry.class_index, { steps, blurSigma }) : undefined;
      try {
        // Identical maps (CAM and Grad-CAM with the logit at the last layer) share their curves.
        const curveCache = new Map<string, Curves>();
        const faithfulness = async (heatmap: Heatmap, tally: Tally): Promise<void> => {
          if (!probe) return;
          const key = `${heatmap.width}x${heatmap.height}:${Buffer.from(heatmap.data.buffer, heatmap.data.byteOffset, heatmap.data.byteLength).toString('base64')}`;
          let curves = curveCache.get(key);
          if (!curves) {
            curves = await probe.curves(upsampleHeatmap(heatmap, inputRegion, inW, inH));
            curveCache.set(key, curves);
          }
          tally.deletion += curves.deletionAuc;
          tally.insertion += curves.insertionAuc;
        };
        let top1Correct = false;
        for (const row of rows) {
          const t0 = performance.now();
          const result = row.request
            ? await explainer.explain(image, { ...row.request, classIndex: entry.class_index, crop, topK: 1 })
            : await explainByPerturbation(explainer, image, {
                method: row.method as PerturbationMethod,
                classIndex: entry.class_index,
                crop,
                topK: 1,
                ...perturbation,
              });
          const ms = performance.now() - t0;
          top1Correct = result.predictions[0]!.classIndex === entry.class_index;
          const tally = tallies.get(row.key)!;
          tally.ms += ms;
          scoreMap(tally, result.heatmap, result.region, width, height, boxes, mask, small, top1Correct);
          await faithfulness(result.heatmap, tally);
        }
        const centreHit = pointInBoxes(width / 2, height / 2, boxes);
        const prior = centreGaussian(width, height);
        baseline.hits += Number(centreHit);
        baseline.smallHits += Number(centreHit && small);
        baseline.energy += energyInMask(prior, mask);
        baseline.located += Number(top1Correct && located(prior, width, height, boxes));
        await faithfulness({ width: inW, height: inH, data: centreGaussian(inW, inH) }, baseline);
        for (let s = 0; s < seeds; s++) {
          const next = mulberry32(1 + s * 7919 + i * 104729);
          const noise: Heatmap = {
            width: view.width,
            height: view.height,
            data: Float32Array.from({ length: view.width * view.height }, next),
          };
          const one = emptyTally();
          scoreMap(one, noise, { x: 0, y: 0, width, height }, width, height, boxes, mask, small, top1Correct);
          await faithfulness(noise, one);
          for (const k of Object.keys(one) as (keyof Tally)[]) random[k] += one[k] / seeds;
        }
      } finally {
        probe?.dispose();
        x.dispose();
      }
    }
    bar.finish(`eval: ${entries.length} images, ${rows.length} method/layer pairs.`);

    const n = entries.length;
    const scores = (t: Tally): Scores => ({
      pointingGame: t.hits / n,
      pointingGameSmall: nSmall > 0 ? t.smallHits / nSmall : 0,
      energyInBox: t.energy / n,
      localization: t.located / n,
      msPerImage: t.ms / n,
      deletionAuc: steps > 0 ? t.deletion / n : null,
      insertionAuc: steps > 0 ? t.insertion / n : null,
    });
    const usesPerturbation = (m: PerturbationMethod): boolean => rows.some((r) => r.method === m);
    const report: EvalReport = {
      n,
      nSmall,
      model: modelId,
      crop,
      reduction,
      methods: Object.fromEntries(
        rows.map((r) => [r.key, { method: r.method, layer: r.layer, ...scores(tallies.get(r.key)!) }]),
      ),
      defaultView,
      baseline: scores(baseline),
      randomBaseline: { ...scores(random), msPerImage: 0, seeds, grid: [view.height, view.width] },
      uniformEnergyInBox: boxShareSum / n,
      faithfulness:
        steps > 0
          ? {
              steps,
              blurSigma,
              blurKernel: 2 * Math.max(1, Math.ceil(blurSigma)) + 1,
              deletionValue: DEFAULT_FAITHFULNESS.deletionValue,
              inputSize: [inH, inW],
            }
          : null,
      perturbation: {
        ...(usesPerturbation('occlusion')
          ? { occlusion: { maskSize: 'auto', stride: 'auto', maskValue: 'mean colour', ...perturbation.occlusion } }
          : {}),
        ...(usesPerturbation('lime') ? { lime: { ...DEFAULT_LIME, ...perturbation.lime } } : {}),
      },
      skipped,
      warnings,
    };
    if (o.json) console.log(JSON.stringify(report));
    else console.log(formatReport(report, backend));
    return 0;
  } finally {
    explainer.dispose();
  }
}

/** Adds one map's localisation scores to a tally. */
function scoreMap(
  tally: Tally,
  heatmap: Heatmap,
  region: Region,
  width: number,
  height: number,
  boxes: readonly Box[],
  mask: Uint8Array,
  small: boolean,
  top1Correct: boolean,
): void {
  const peak = heatmapPeak(heatmap, region);
  const values = upsampleHeatmap(heatmap, region, width, height);
  const hit = pointInBoxes(peak.x, peak.y, boxes);
  tally.hits += Number(hit);
  tally.smallHits += Number(hit && small);
  tally.energy += energyInMask(values, mask);
  tally.located += Number(top1Correct && located(values, width, height, boxes));
}

function located(values: Float32Array, width: number, height: number, boxes: readonly Box[]): boolean {
  const box = boxFromMap(values, width, height, 0.15);
  return !!box && boxes.some((b) => iou(box, b) >= 0.5);
}

/** Boxes are given for the size in boxes.json; rescale them if the decoded picture differs. */
function scaleBoxes(entry: BoxedImage, width: number, height: number): Box[] {
  if (entry.width === width && entry.height === height) return entry.boxes;
  const sx = width / entry.width;
  const sy = height / entry.height;
  return entry.boxes.map(
    ([a, b, c, d]) => [Math.round(a * sx), Math.round(b * sy), Math.round(c * sx), Math.round(d * sy)] as const,
  );
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

export function formatReport(r: EvalReport, backend: string): string {
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
        `${f.deletionValue} in the network's input units (mid-grey); insertion starts from a Gaussian blur, σ = ${f.blurSigma} px, ${f.blurKernel}×${f.blurKernel} kernel.`,
    );
  }
  if (r.perturbation.occlusion) out.push(`occlusion: ${JSON.stringify(r.perturbation.occlusion)}`);
  if (r.perturbation.lime) out.push(`LIME: ${JSON.stringify(r.perturbation.lime)}`);
  for (const s of r.skipped) out.push(`skipped ${METHOD_NAMES[s.method]} at ${s.layer}: ${s.reason}`);
  for (const w of r.warnings) out.push(`note: ${w}`);
  return out.join('\n');
}

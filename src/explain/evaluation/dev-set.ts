import { isWhyCamError } from '../errors.js';
import type { Explainer } from '../methods/explainer.js';
import { heatmapPeak, upsampleHeatmap } from '../methods/heatmap.js';
import { isMethod, type DefaultView, type Method, METHODS, type Reduction } from '../methods/names.js';
import type { ExplainRequest, Heatmap } from '../methods/types.js';
import { methodWarning } from '../methods/warnings.js';
import { DEFAULT_LIME } from '../perturbation/lime.js';
import { explainByPerturbation, networkInput, type PerturbationRequest } from '../perturbation/perturbation.js';
import { PERTURBATION_METHODS, type PerturbationMethod } from '../perturbation/names.js';
import { mulberry32 } from '../random.js';
import type { RgbaImage } from '../runtime/input.js';
import type { CropPolicy, Region } from '../runtime/preprocess.js';
import { type Curves, FaithfulnessProbe } from './faithfulness.js';
import {
  type Box,
  boxFromMap,
  boxUnionMask,
  centreGaussian,
  energyInMask,
  iou,
  maskShare,
  pointInBoxes,
} from './metrics.js';

/**
 * Scoring a labelled development set (pictures with ground-truth classes and boxes): each method's
 * localisation (pointing game, energy in box, CAM's box IoU) and faithfulness (deletion /
 * insertion), next to a centre prior and random maps. No printing and no files: the caller reads
 * the pictures and shows the report.
 */

export interface BoxedImage {
  file: string;
  /** The size the boxes are given for; they are rescaled if the decoded picture differs. */
  width: number;
  height: number;
  class_index: number;
  /** A class of the model's own labels, in place of class_index. */
  label?: string;
  boxes: Box[];
}

export type EvalMethod = Method | PerturbationMethod;
export const EVAL_METHODS: readonly EvalMethod[] = [...METHODS, ...PERTURBATION_METHODS];

interface Scores {
  pointingGame: number;
  pointingGameSmall: number;
  energyInBox: number;
  localization: number;
  msPerImage: number;
  /** Mean area under the deletion curve (lower is better); null when steps = 0. */
  deletionAuc: number | null;
  /** Mean area under the insertion curve (higher is better); null when steps = 0. */
  insertionAuc: number | null;
}

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
  /** How deletion / insertion were run; null when steps = 0. */
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

/** One map's scores on one picture. */
interface MapScore {
  hit: boolean;
  energy: number;
  located: boolean;
  ms: number;
  deletionAuc: number | null;
  insertionAuc: number | null;
  /** The map and the part of the picture it covers, with `keepMaps`. */
  heatmap?: Heatmap;
  region?: Region;
}

/** One picture's row: its boxes as scored, and each method's map score (keyed as in the report). */
export interface ImageRow {
  file: string;
  width: number;
  height: number;
  boxes: Box[];
  small: boolean;
  boxShare: number;
  top1Correct: boolean;
  maps: Record<string, MapScore>;
}

interface DevSetOptions {
  /** Methods to score; default the model's default view alone (or, with `layers`, every gradient method). */
  methods?: readonly EvalMethod[];
  /** Comma-separated feature layers or `auto`; default the default view's layer. */
  layers?: string;
  reduction: Reduction;
  crop: CropPolicy;
  /** The app's default view for this model. */
  view: DefaultView;
  model: string;
  /** Deletion / insertion steps (0 skips them). */
  steps: number;
  blurSigma: number;
  /** Random maps per picture for the random baseline. */
  seeds: number;
  perturbation: Pick<PerturbationRequest, 'occlusion' | 'lime'>;
  readImage: (file: string) => Promise<RgbaImage>;
  onProgress?: (done: number, total: number, file: string) => void;
  /** Keep each map (and its region) in the image rows. */
  keepMaps?: boolean;
}

interface Row {
  key: string;
  method: EvalMethod;
  layer: string;
  request?: ExplainRequest & { layer: string };
}

/** The method/layer pairs to score, those a method cannot serve, and the default view's key. */
function planRows(
  explainer: Explainer,
  options: Pick<DevSetOptions, 'methods' | 'layers' | 'reduction' | 'view'>,
): { rows: Row[]; skipped: EvalReport['skipped']; defaultView: string | null; warnings: string[] } {
  const { reduction, view } = options;
  const defaultViewOnly = options.methods === undefined && options.layers === undefined;
  const methods = options.methods ?? (defaultViewOnly ? [view.method] : METHODS);
  const layers = [
    ...new Set(
      (defaultViewOnly ? view.layer : (options.layers ?? 'auto'))
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
      rows.push({ key: layers.length > 1 || defaultViewOnly ? `${method}@${layer}` : method, method, layer, request });
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
    rows.find((r) => r.method === view.method && r.layer === view.layer && reduction === view.reduction)?.key ?? null;
  return { rows, skipped, defaultView, warnings };
}

/**
 * One map's localisation on a width×height picture: does its peak fall in a box (pointing game),
 * its mass inside the boxes over its total (energy in box), and, when the top-1 class is right,
 * does the box of its largest region above 15% of the maximum have IoU ≥ 0.5 with a box.
 */
export function scoreMap(
  heatmap: Heatmap,
  region: Region,
  width: number,
  height: number,
  boxes: readonly Box[],
  top1Correct: boolean,
  mask = boxUnionMask(width, height, boxes),
): { hit: boolean; energy: number; located: boolean } {
  const peak = heatmapPeak(heatmap, region);
  const values = upsampleHeatmap(heatmap, region, width, height);
  return {
    hit: pointInBoxes(peak.x, peak.y, boxes),
    energy: energyInMask(values, mask),
    located: top1Correct && located(values, width, height, boxes),
  };
}

function located(values: Float32Array, width: number, height: number, boxes: readonly Box[]): boolean {
  const box = boxFromMap(values, width, height, 0.15);
  return !!box && boxes.some((b) => iou(box, b) >= 0.5);
}

/** Boxes are given for the size in the entry; rescale them if the decoded picture differs. */
function scaleBoxes(entry: BoxedImage, width: number, height: number): Box[] {
  if (entry.width === width && entry.height === height) return entry.boxes;
  const sx = width / entry.width;
  const sy = height / entry.height;
  return entry.boxes.map(
    ([a, b, c, d]) => [Math.round(a * sx), Math.round(b * sy), Math.round(c * sx), Math.round(d * sy)] as const,
  );
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

function add(tally: Tally, s: MapScore, small: boolean, weight = 1): void {
  tally.hits += weight * Number(s.hit);
  tally.smallHits += weight * Number(s.hit && small);
  tally.energy += weight * s.energy;
  tally.located += weight * Number(s.located);
  tally.ms += weight * s.ms;
  tally.deletion += weight * (s.deletionAuc ?? 0);
  tally.insertion += weight * (s.insertionAuc ?? 0);
}

/** Scores every method (and the baselines) on every entry; the report, and a row per picture. */
export async function evaluateDevSet(
  explainer: Explainer,
  entries: readonly BoxedImage[],
  options: DevSetOptions,
): Promise<{ report: EvalReport; images: ImageRow[] }> {
  const { crop, reduction, steps, blurSigma, seeds, perturbation } = options;
  const { rows, skipped, defaultView, warnings } = planRows(explainer, options);
  const view = explainer.network.layer(options.view.layer);
  const [inH, inW] = explainer.inputSize;
  const inputRegion: Region = { x: 0, y: 0, width: inW, height: inH };
  // Deleted pixels become mid-grey: the middle of the input range (0 for MobileNet's [−1, 1],
  // 127.5 for a Caffe network's 0–255 before its mean is taken off).
  const midGrey = (explainer.inputRange[0] + explainer.inputRange[1]) / 2;

  // The first call compiles kernels and allocates; keep it out of the ms/image figures.
  await explainer.warmUp(rows.flatMap((r) => (r.request ? [r.request] : [])));
  const tallies = new Map(rows.map((r) => [r.key, emptyTally()]));
  const baseline = emptyTally();
  const random = emptyTally();
  const images: ImageRow[] = [];
  let nSmall = 0;
  let boxShareSum = 0;
  for (const [i, entry] of entries.entries()) {
    options.onProgress?.(i, entries.length, entry.file);
    const image = await options.readImage(entry.file);
    const { width, height } = image;
    const boxes = scaleBoxes(entry, width, height);
    const mask = boxUnionMask(width, height, boxes);
    const boxShare = maskShare(mask);
    const small = boxShare < 0.5;
    boxShareSum += boxShare;
    if (small) nSmall++;
    const { x } = await networkInput(explainer, image, crop);
    const probe =
      steps > 0
        ? new FaithfulnessProbe(explainer.network, x, entry.class_index, { steps, blurSigma, deletionValue: midGrey })
        : undefined;
    const row: ImageRow = { file: entry.file, width, height, boxes, small, boxShare, top1Correct: false, maps: {} };
    try {
      // Identical maps (CAM and Grad-CAM with the logit at the last layer) share their curves.
      const curveCache = new Map<string, Curves>();
      const faithfulness = async (heatmap: Heatmap): Promise<Curves | null> => {
        if (!probe) return null;
        const d = heatmap.data;
        const key = `${heatmap.width}x${heatmap.height}:${Array.prototype.join.call(d, ',')}`;
        let curves = curveCache.get(key);
        if (!curves) {
          curves = await probe.curves(upsampleHeatmap(heatmap, inputRegion, inW, inH));
          curveCache.set(key, curves);
        }
        return curves;
      };
      const score = async (heatmap: Heatmap, region: Region, ms: number, top1: boolean): Promise<MapScore> => {
        const curves = await faithfulness(heatmap);
        return {
          ...scoreMap(heatmap, region, width, height, boxes, top1, mask),
          ms,
          deletionAuc: curves?.deletionAuc ?? null,
          insertionAuc: curves?.insertionAuc ?? null,
          ...(options.keepMaps ? { heatmap, region } : {}),
        };
      };
      for (const r of rows) {
        const t0 = performance.now();
        const result = r.request
          ? await explainer.explain(image, { ...r.request, classIndex: entry.class_index, crop, topK: 1 })
          : await explainByPerturbation(explainer, image, {
              method: r.method as PerturbationMethod,
              classIndex: entry.class_index,
              crop,
              topK: 1,
              ...perturbation,
            });
        const ms = performance.now() - t0;
        row.top1Correct = result.predictions[0]!.classIndex === entry.class_index;
        const s = await score(result.heatmap, result.region, ms, row.top1Correct);
        row.maps[r.key] = s;
        add(tallies.get(r.key)!, s, small);
      }
      // The centre prior: the centre point for pointing, a centred Gaussian for the rest.
      const prior = centreGaussian(width, height);
      const centreHit = pointInBoxes(width / 2, height / 2, boxes);
      const priorCurves = await faithfulness({ width: inW, height: inH, data: centreGaussian(inW, inH) });
      add(
        baseline,
        {
          hit: centreHit,
          energy: energyInMask(prior, mask),
          located: row.top1Correct && located(prior, width, height, boxes),
          ms: 0,
          deletionAuc: priorCurves?.deletionAuc ?? null,
          insertionAuc: priorCurves?.insertionAuc ?? null,
        },
        small,
      );
      for (let s = 0; s < seeds; s++) {
        const next = mulberry32(1 + s * 7919 + i * 104729);
        const noise: Heatmap = {
          width: view.width,
          height: view.height,
          data: Float32Array.from({ length: view.width * view.height }, next),
        };
        add(random, await score(noise, { x: 0, y: 0, width, height }, 0, row.top1Correct), small, 1 / seeds);
      }
    } finally {
      probe?.dispose();
      x.dispose();
    }
    images.push(row);
  }
  options.onProgress?.(entries.length, entries.length, '');

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
  const uses = (m: PerturbationMethod): boolean => rows.some((r) => r.method === m);
  const report: EvalReport = {
    n,
    nSmall,
    model: options.model,
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
            deletionValue: midGrey,
            inputSize: [inH, inW],
          }
        : null,
    perturbation: {
      ...(uses('occlusion')
        ? { occlusion: { maskSize: 'auto', stride: 'auto', maskValue: 'mean colour', ...perturbation.occlusion } }
        : {}),
      ...(uses('lime') ? { lime: { ...DEFAULT_LIME, ...perturbation.lime } } : {}),
    },
    skipped,
    warnings,
  };
  return { report, images };
}

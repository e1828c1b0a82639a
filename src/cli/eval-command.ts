import fs from 'node:fs/promises';
import path from 'node:path';
import { DEFAULT_MODEL_ID } from '../../models/registry.js';
import { isWhyCamError, WhyCamError } from '../explain/errors.js';
import type { ExplainRequest } from '../explain/explainer.js';
import { heatmapPeak, upsampleHeatmap } from '../explain/heatmap.js';
import { METHOD_NAMES, METHODS, type Method, REDUCTIONS } from '../explain/methods.js';
import {
  type Box, boxFromMap, boxUnionMask, centreGaussian, energyInMask, iou, maskShare, pointInBoxes,
} from '../explain/metrics.js';
import { CROP_POLICIES } from '../explain/preprocess.js';
import { NODE_BACKENDS, useNodeBackend } from '../node/backend.js';
import { readImage } from '../node/image-io.js';
import { loadExplainer } from '../node/load-model.js';
import { ProgressBar } from '../node/progress.js';
import { listOf, oneOf, parseCommand } from './args.js';

export const EVAL_USAGE = `Usage: whycam eval --images DIR --boxes boxes.json [options]

Scores how well each method localises the ground-truth class against bounding boxes, next to a
centre-prior baseline (ImageNet photos are centred, so a map that is just the centre scores well).

  --images DIR        folder with the images named in boxes.json
  --boxes FILE        [{file, width, height, class_index, boxes: [[xmin, ymin, xmax, ymax], ...]}, ...]
  --method LIST       comma-separated: ${METHODS.join(', ')} (default: all)
  --layer LIST        comma-separated feature layers, or auto (default auto = the last conv map)
  --reduction R       ${REDUCTIONS.join(' | ')} (default logit)
  --crop P            center | full (default full)
  --model ID          default ${DEFAULT_MODEL_ID}
  --backend NAME      ${NODE_BACKENDS.join(' | ')} (default wasm)
  --json              print the scores as one JSON object

Scores: pointing game (the heatmap's maximum falls inside a box), the same on images whose boxes
cover less than half the picture, energy in box (heatmap mass inside the boxes ÷ total), and
localisation accuracy (box of the largest region above 15% of the maximum has IoU ≥ 0.5 with a
ground-truth box, and the top-1 class is right).`;

const OPTIONS = {
  images: { type: 'string' },
  boxes: { type: 'string' },
  method: { type: 'string' },
  layer: { type: 'string' },
  reduction: { type: 'string' },
  crop: { type: 'string' },
  model: { type: 'string' },
  backend: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

interface BoxedImage {
  file: string;
  width: number;
  height: number;
  class_index: number;
  boxes: Box[];
}

export interface Scores {
  pointingGame: number;
  pointingGameSmall: number;
  energyInBox: number;
  localization: number;
  msPerImage: number;
}

export interface EvalReport {
  n: number;
  nSmall: number;
  model: string;
  crop: string;
  reduction: string;
  /** Keyed by method, or by `method@layer` when several layers were asked for. */
  methods: Record<string, Scores & { method: Method; layer: string }>;
  baseline: Scores;
  /** Energy-in-box of a uniform map: the share of the pictures the boxes cover. */
  uniformEnergyInBox: number;
  skipped: { method: Method; layer: string; reason: string }[];
}

interface Tally { hits: number; smallHits: number; energy: number; located: number; ms: number }

const emptyTally = (): Tally => ({ hits: 0, smallHits: 0, energy: 0, located: 0, ms: 0 });

export async function evalCommand(args: string[]): Promise<number> {
  const { values: o } = parseCommand(args, OPTIONS, EVAL_USAGE);
  if (o.help) {
    console.log(EVAL_USAGE);
    return 0;
  }
  if (!o.images || !o.boxes) throw new WhyCamError('bad-option', 'eval needs --images and --boxes.', EVAL_USAGE);
  const methods = listOf(o.method, METHODS, '--method', METHODS);
  const reduction = oneOf(o.reduction, REDUCTIONS, '--reduction', 'logit');
  const crop = oneOf(o.crop, CROP_POLICIES, '--crop', 'full');
  const backend = oneOf(o.backend, NODE_BACKENDS, '--backend', 'wasm');
  const modelId = o.model ?? DEFAULT_MODEL_ID;
  const entries = await readBoxes(o.boxes, o.images);

  await useNodeBackend(backend);
  const explainer = await loadExplainer(modelId);
  try {
    const layers = [...new Set((o.layer ?? 'auto').split(',').map((l) => explainer.network.layer(l.trim()).name))];
    const skipped: EvalReport['skipped'] = [];
    const rows: { key: string; request: ExplainRequest & { layer: string } }[] = [];
    for (const layer of layers) {
      for (const method of methods) {
        const request = { method, layer, reduction };
        try {
          explainer.resolve(request);
        } catch (e) {
          if (!isWhyCamError(e) || e.code !== 'method-unavailable') throw e;
          skipped.push({ method, layer, reason: e.message.split('\n')[0]! });
          continue;
        }
        rows.push({ key: layers.length > 1 ? `${method}@${layer}` : method, request });
      }
    }

    const tallies = new Map(rows.map((r) => [r.key, emptyTally()]));
    const baseline = emptyTally();
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
      let topRight = false;
      for (const row of rows) {
        const t0 = performance.now();
        const result = await explainer.explain(image, { ...row.request, classIndex: entry.class_index, crop, topK: 1 });
        const ms = performance.now() - t0;
        topRight = result.predictions[0]!.classIndex === entry.class_index;
        const tally = tallies.get(row.key)!;
        const peak = heatmapPeak(result.heatmap, result.region);
        const values = upsampleHeatmap(result.heatmap, result.region, width, height);
        const hit = pointInBoxes(peak.x, peak.y, boxes);
        tally.hits += Number(hit);
        tally.smallHits += Number(hit && small);
        tally.energy += energyInMask(values, mask);
        tally.located += Number(topRight && located(values, width, height, boxes));
        tally.ms += ms;
      }
      const centreHit = pointInBoxes(width / 2, height / 2, boxes);
      const prior = centreGaussian(width, height);
      baseline.hits += Number(centreHit);
      baseline.smallHits += Number(centreHit && small);
      baseline.energy += energyInMask(prior, mask);
      baseline.located += Number(topRight && located(prior, width, height, boxes));
    }
    bar.finish(`eval: ${entries.length} images, ${rows.length} method/layer pairs.`);

    const n = entries.length;
    const scores = (t: Tally): Scores => ({
      pointingGame: t.hits / n,
      pointingGameSmall: nSmall > 0 ? t.smallHits / nSmall : 0,
      energyInBox: t.energy / n,
      localization: t.located / n,
      msPerImage: t.ms / n,
    });
    const report: EvalReport = {
      n, nSmall, model: modelId, crop, reduction,
      methods: Object.fromEntries(rows.map((r) => [r.key, { method: r.request.method, layer: r.request.layer, ...scores(tallies.get(r.key)!) }])),
      baseline: scores(baseline),
      uniformEnergyInBox: boxShareSum / n,
      skipped,
    };
    if (o.json) console.log(JSON.stringify(report));
    else console.log(formatReport(report, backend));
    return 0;
  } finally {
    explainer.dispose();
  }
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
  return entry.boxes.map(([a, b, c, d]) => [Math.round(a * sx), Math.round(b * sy), Math.round(c * sx), Math.round(d * sy)] as const);
}

async function readBoxes(boxesFile: string, imagesDir: string): Promise<BoxedImage[]> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await fs.readFile(boxesFile, 'utf8'));
  } catch (e) {
    throw new WhyCamError('bad-option', `${boxesFile} cannot be read as JSON (${(e as Error).message}).`);
  }
  if (!Array.isArray(parsed) || parsed.length === 0) {
    throw new WhyCamError('bad-option', `${boxesFile} must be a non-empty JSON array of {file, width, height, class_index, boxes}.`);
  }
  return parsed.map((e: Partial<BoxedImage>, i) => {
    if (typeof e.file !== 'string' || !Number.isInteger(e.class_index) || !Array.isArray(e.boxes) || e.boxes.length === 0 ||
        !(Number(e.width) > 0 && Number(e.height) > 0)) {
      throw new WhyCamError('bad-option', `${boxesFile}: entry ${i} lacks file, width, height, class_index or boxes.`);
    }
    return { ...(e as BoxedImage), file: path.join(imagesDir, e.file) };
  });
}

const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;

export function formatReport(r: EvalReport, backend: string): string {
  const frac = (x: number, of: number): string => `${Math.round(x * of)}/${of} (${pct(x)})`;
  const header = ['method', 'layer', 'pointing game', `pointing, small boxes`, 'energy in box', 'localisation', 'ms/image'];
  const lines = Object.values(r.methods).map((m) => [
    METHOD_NAMES[m.method], m.layer, frac(m.pointingGame, r.n), frac(m.pointingGameSmall, r.nSmall),
    m.energyInBox.toFixed(3), frac(m.localization, r.n), m.msPerImage.toFixed(1),
  ]);
  lines.push(['centre prior', '(baseline)', frac(r.baseline.pointingGame, r.n), frac(r.baseline.pointingGameSmall, r.nSmall),
    r.baseline.energyInBox.toFixed(3), frac(r.baseline.localization, r.n), '–']);
  lines.push(['uniform map', '(boxes\' share)', '–', '–', r.uniformEnergyInBox.toFixed(3), '–', '–']);
  const widths = header.map((h, c) => Math.max(h.length, ...lines.map((l) => l[c]!.length)));
  const row = (cells: string[]): string => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  const out = [
    `whycam eval: ${r.n} images (${r.nSmall} with boxes under half the picture), model ${r.model}, crop ${r.crop}, reduction ${r.reduction}, backend ${backend}`,
    row(header),
    row(widths.map((w) => '-'.repeat(w))),
    ...lines.map(row),
  ];
  for (const s of r.skipped) out.push(`skipped ${METHOD_NAMES[s.method]} at ${s.layer}: ${s.reason}`);
  return out.join('\n');
}

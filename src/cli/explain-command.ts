import fs from 'node:fs/promises';
import path from 'node:path';
import { DEFAULT_MODEL_ID, defaultView } from '../../models/registry.js';
import { COLORMAPS } from '../explain/render/colormaps.js';
import { isWhyCamError, WhyCamError } from '../explain/errors.js';
import type { Explanation } from '../explain/methods/types.js';
import { METHOD_NAMES, METHODS, REDUCTIONS } from '../explain/methods/names.js';
import { overlayHeatmap } from '../explain/render/overlay.js';
import { isPerturbationMethod, PERTURBATION_METHODS } from '../explain/perturbation/perturbation.js';
import { CROP_POLICIES } from '../explain/runtime/preprocess.js';
import { NODE_BACKENDS, useNodeBackend } from '../node/backend.js';
import { encodePng, readImage } from '../node/image-io.js';
import { loadModelOption, MODEL_OPTIONS, MODEL_USAGE } from '../node/model-path.js';
import { withTitle } from '../node/title.js';
import { numberIn, oneOf, parseCommand, viewText } from './args.js';
import { methodWarning } from '../explain/methods/warnings.js';
import { explainFilesByPerturbation } from './explain-perturbation.js';
import { collectImages } from './images.js';
import { PERTURBATION_OPTIONS, PERTURBATION_USAGE, perturbationOptions } from './perturbation-options.js';

export const EXPLAIN_USAGE = `Usage: whycam explain <image|folder...> [options]

Classifies each image and shows which part of it drove the decision.

Defaults: Grad-CAM of the logit at the last conv map, as MATLAB's gradCAM and the Grad-CAM
paper compute it, so that a map can be checked against those references. The app opens on the
model's default view instead (${DEFAULT_MODEL_ID}: ${viewText(defaultView(DEFAULT_MODEL_ID))}),
the sharper map to watch; ask for it with --method and --layer. \`whycam eval\` scores that view.

${MODEL_USAGE}
  --method NAME       ${[...METHODS, ...PERTURBATION_METHODS].join(' | ')} (default gradcam);
                      occlusion and LIME run many forward passes (seconds per picture)
  --layer NAME        feature layer, or auto (default: the last conv map)
  --class C           class index (0-999) or label to explain (default: the top prediction)
  --contrast B        why the class and not B (index or label): the map explains logit_class − logit_B
                      (with --reduction softmax, p_class − p_B); not with occlusion or LIME
  --reduction R       ${REDUCTIONS.join(' | ')}: what Grad-CAM differentiates (default logit)
  --crop P            center | full: the centre square, or the whole picture squashed (default full; center for a
                      Teachable Machine or taught model, as they were trained)
  --colormap NAME     ${COLORMAPS.join(' | ')} (default jet)
  --alpha A           heatmap opacity 0-1 (default 0.5)
  --threshold T       hide heatmap values below T, 0-1 (default 0)
  --top K             predictions to report (default 5)
  --out DIR           write <image>_<method>.png overlays into DIR
  --json              print one JSON object per image (JSON Lines) instead of text
  --backend NAME      ${NODE_BACKENDS.join(' | ')} (default wasm)
${PERTURBATION_USAGE}`;

const OPTIONS = {
  ...MODEL_OPTIONS,
  method: { type: 'string' },
  layer: { type: 'string' },
  class: { type: 'string' },
  contrast: { type: 'string' },
  reduction: { type: 'string' },
  crop: { type: 'string' },
  colormap: { type: 'string' },
  alpha: { type: 'string' },
  threshold: { type: 'string' },
  top: { type: 'string' },
  out: { type: 'string' },
  json: { type: 'boolean' },
  backend: { type: 'string' },
  ...PERTURBATION_OPTIONS,
  help: { type: 'boolean', short: 'h' },
} as const;

/** One line of `--json` output. */
export interface ExplainRecord {
  file: string;
  model: string;
  predictions: Explanation['predictions'];
  target: Explanation['target'];
  /** The class explained against (`--contrast`), or null. */
  contrast: Explanation['target'] | null;
  method: Explanation['method'];
  reduction: Explanation['reduction'];
  layer: string;
  region: Explanation['region'];
  heatmap: { width: number; height: number; data: number[] };
  timings: Explanation['timings'];
  output: string | null;
}

export async function explainCommand(args: string[]): Promise<number> {
  const { values: o, positionals } = parseCommand(args, OPTIONS, EXPLAIN_USAGE);
  if (o.help) {
    console.log(EXPLAIN_USAGE);
    return 0;
  }
  const method = oneOf(o.method, [...METHODS, ...PERTURBATION_METHODS], '--method', 'gradcam');
  const reduction = oneOf(o.reduction, REDUCTIONS, '--reduction', 'logit');
  const cropOption = oneOf(o.crop, CROP_POLICIES, '--crop', 'full');
  const colormap = oneOf(o.colormap, COLORMAPS, '--colormap', 'jet');
  const backend = oneOf(o.backend, NODE_BACKENDS, '--backend', 'wasm');
  const alpha = numberIn(o.alpha, '--alpha', 0, 1, 0.5);
  const threshold = numberIn(o.threshold, '--threshold', 0, 1, 0);
  const topK = numberIn(o.top, '--top', 1, 1000, 5);
  const files = await collectImages(positionals);

  await useNodeBackend(backend);
  const { explainer, name: modelId, notes, crop: trainedCrop, summary } = await loadModelOption(o);
  // What was recognised and assumed of the user's own model: on stderr, also with --json.
  for (const line of summary) console.error(line);
  const crop = o.crop === undefined ? (trainedCrop ?? cropOption) : cropOption;
  if (notes && !o.json) console.error(`${modelId}: ${notes}`);
  // A taught or Teachable Machine model may score fewer than five classes.
  const top = o.top === undefined ? Math.min(topK, explainer.network.numClasses) : topK;
  try {
    const classIndex = o.class === undefined ? null : explainer.labels.resolve(o.class);
    const contrastClass = o.contrast === undefined ? null : explainer.labels.resolve(o.contrast);
    if (isPerturbationMethod(method)) {
      if (contrastClass !== null)
        throw new WhyCamError('bad-option', `--contrast works with ${METHODS.join(', ')} only.`);
      return await explainFilesByPerturbation(explainer, files, {
        method,
        modelId,
        classIndex,
        crop,
        topK: top,
        settings: perturbationOptions(o, explainer.inputRange),
        colormap,
        alpha,
        threshold,
        out: o.out,
        json: !!o.json,
      });
    }
    const request = {
      method,
      reduction,
      classIndex,
      contrastClass,
      ...(o.layer !== undefined ? { layer: o.layer } : {}),
    };
    const warning = methodWarning(method, explainer.resolve(request).layer.name, explainer.network);
    if (warning) console.error(`whycam: ${warning}`);
    if (o.out) await fs.mkdir(o.out, { recursive: true });

    let failures = 0;
    for (const file of files) {
      try {
        const image = await readImage(file);
        const result = await explainer.explain(image, { ...request, topK: top, crop });
        let output: string | null = null;
        if (o.out) {
          const overlay = overlayHeatmap(image, result.heatmap, result.region, { colormap, alpha, threshold });
          const title = `${result.target.label} (${result.target.score.toFixed(2)})${result.contrast ? `, not ${result.contrast.label}` : ''}`;
          const subtitle = `${METHOD_NAMES[method]} · ${result.layer}${method === 'cam' ? '' : ` · ${reduction}`} · ${modelId}`;
          output = path.join(o.out, `${path.parse(file).name}_${method.replace('++', 'pp')}.png`);
          await writeAtomically(output, encodePng(withTitle(overlay, title, subtitle)));
        }
        if (o.json) console.log(JSON.stringify(toRecord(file, modelId, result, output)));
        else printSummary(file, result, output);
      } catch (e) {
        if (!isWhyCamError(e)) throw e;
        failures++;
        console.error(`whycam: ${e.message}`);
      }
    }
    // Bad input exits 2, as a refused option does; 1 says some pictures were explained and some not.
    return failures === 0 ? 0 : failures === files.length ? 2 : 1;
  } finally {
    explainer.dispose();
  }
}

function toRecord(file: string, model: string, r: Explanation, output: string | null): ExplainRecord {
  return {
    file,
    model,
    predictions: r.predictions,
    target: r.target,
    contrast: r.contrast ?? null,
    method: r.method,
    reduction: r.reduction,
    layer: r.layer,
    region: r.region,
    heatmap: {
      width: r.heatmap.width,
      height: r.heatmap.height,
      data: Array.from(r.heatmap.data, (v) => Math.round(v * 1e4) / 1e4),
    },
    timings: r.timings,
    output,
  };
}

function printSummary(file: string, r: Explanation, output: string | null): void {
  const top = r.predictions
    .slice(0, 3)
    .map((p) => `${p.label} ${(p.score * 100).toFixed(1)}%`)
    .join(', ');
  const not = r.contrast ? `, not ${r.contrast.label} (${r.contrast.score.toFixed(2)})` : '';
  console.log(
    `${file}: ${r.target.label} (${r.target.score.toFixed(2)})${not} — ${METHOD_NAMES[r.method]} at ${r.layer} ` +
      `(${r.heatmap.width}×${r.heatmap.height}), ${r.timings.totalMs.toFixed(0)} ms. Top 3: ${top}.` +
      (output ? ` Wrote ${output}` : ''),
  );
}

/** Writes via a temporary file and a rename, so a failure never leaves a half-written PNG. */
async function writeAtomically(file: string, data: Uint8Array): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    await fs.writeFile(tmp, data);
    await fs.rename(tmp, file);
  } catch (e) {
    await fs.rm(tmp, { force: true });
    throw e;
  }
}

import fs from 'node:fs/promises';
import path from 'node:path';
import type { ColormapName } from '../explain/render/colormaps.js';
import { isWhyCamError } from '../explain/errors.js';
import type { Explainer } from '../explain/methods/explainer.js';
import { overlayHeatmap } from '../explain/render/overlay.js';
import {
  explainByPerturbation,
  PERTURBATION_METHOD_NAMES,
  type PerturbationExplanation,
  type PerturbationMethod,
  type PerturbationRequest,
} from '../explain/perturbation/perturbation.js';
import type { CropPolicy } from '../explain/runtime/preprocess.js';
import { encodePng, readImage } from '../node/image-io.js';
import { ProgressBar } from '../node/progress.js';
import { withTitle } from '../node/title.js';

interface PerturbationRun {
  method: PerturbationMethod;
  modelId: string;
  classIndex: number | null;
  crop: CropPolicy;
  topK: number;
  settings: Pick<PerturbationRequest, 'occlusion' | 'lime'>;
  colormap: ColormapName;
  alpha: number;
  threshold: number;
  out: string | undefined;
  json: boolean;
}

/**
 * `whycam explain --method occlusion|lime`: the slow, model-agnostic methods, with a progress bar
 * (forward passes) on the terminal. Same outputs as the gradient methods: a titled PNG overlay
 * and/or one JSON line per image (with `details`: mask size, stride, segments …).
 */
export async function explainFilesByPerturbation(
  explainer: Explainer,
  files: readonly string[],
  run: PerturbationRun,
): Promise<number> {
  if (run.out) await fs.mkdir(run.out, { recursive: true });
  const name = PERTURBATION_METHOD_NAMES[run.method];
  let failures = 0;
  for (const file of files) {
    try {
      const image = await readImage(file);
      const bar = new ProgressBar(`${name} ${path.basename(file)}`, 1, (d, t) => `${d}/${t} forward passes`);
      const result = await explainByPerturbation(explainer, image, {
        method: run.method,
        classIndex: run.classIndex,
        crop: run.crop,
        topK: run.topK,
        ...run.settings,
        onProgress: (done, total) => bar.update(done, '', total),
      });
      bar.finish(
        `${name}: ${path.basename(file)} in ${(result.timings.totalMs / 1000).toFixed(1)} s (${describe(result)}).`,
      );
      let output: string | null = null;
      if (run.out) {
        const overlay = overlayHeatmap(image, result.heatmap, result.region, {
          colormap: run.colormap,
          alpha: run.alpha,
          threshold: run.threshold,
        });
        const title = `${result.target.label} (${result.target.score.toFixed(2)})`;
        output = path.join(run.out, `${path.parse(file).name}_${run.method}.png`);
        await writeAtomically(
          output,
          encodePng(withTitle(overlay, title, `${name} · ${describe(result)} · ${run.modelId}`)),
        );
      }
      if (run.json) console.log(JSON.stringify(toRecord(file, run.modelId, result, output)));
      else {
        const top = result.predictions
          .slice(0, 3)
          .map((p) => `${p.label} ${(p.score * 100).toFixed(1)}%`)
          .join(', ');
        console.log(
          `${file}: ${result.target.label} (${result.target.score.toFixed(2)}) — ${name}, ${describe(result)}, ` +
            `${result.timings.totalMs.toFixed(0)} ms. Top 3: ${top}.${output ? ` Wrote ${output}` : ''}`,
        );
      }
    } catch (e) {
      if (!isWhyCamError(e) && !(e instanceof RangeError)) throw e;
      failures++;
      console.error(`whycam: ${e.message}`);
    }
  }
  // Bad input exits 2, as a refused option does; 1 says some pictures were explained and some not.
  return failures === 0 ? 0 : failures === files.length ? 2 : 1;
}

function describe(r: PerturbationExplanation): string {
  const d = r.details;
  if ('maskSize' in d)
    return `mask ${d.maskSize} px, stride ${d.stride} px, ${r.heatmap.width}×${r.heatmap.height} positions`;
  return `${d.features} features, ${d.numSamples} samples`;
}

function toRecord(
  file: string,
  model: string,
  r: PerturbationExplanation,
  output: string | null,
): Record<string, unknown> {
  // The per-pixel segment labels are as large as the picture; the coefficients say what matters.
  const details = Object.fromEntries(Object.entries(r.details).filter(([k]) => k !== 'segments'));
  const round = (v: number): number => Math.round(v * 1e4) / 1e4;
  return {
    file,
    model,
    predictions: r.predictions,
    target: r.target,
    method: r.method,
    layer: null,
    region: r.region,
    heatmap: { width: r.heatmap.width, height: r.heatmap.height, data: Array.from(r.heatmap.data, round) },
    details: Object.fromEntries(
      Object.entries(details).map(([k, v]) => [k, ArrayBuffer.isView(v) ? Array.from(v as Float32Array, round) : v]),
    ),
    timings: r.timings,
    output,
  };
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

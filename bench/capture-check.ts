/**
 * `bench:node -- --backend webgpu --check-capture`: for each model, whether a replayed frame (graph
 * capture, src/explain/runtime/graph-capture.ts) equals the same frame run op by op, for
 * classification and for Grad-CAM at the auto layer. tests/unit/graph-capture.test.ts checks this
 * for MobileNet; the zoo models cost too long per frame on SwiftShader for the test suite (see the
 * comment there), so their check lives here and prints the largest differences instead.
 */
import type { Explainer } from '../src/explain/methods/explainer.js';
import type { Explanation } from '../src/explain/methods/types.js';
import type { RgbaImage } from '../src/explain/runtime/input.js';
import { countKernels } from './frame-probe.js';
import { flipped } from '../src/node/image-io.js';

export interface CaptureCheck {
  model: string;
  /** Largest |Δ| of the top-5 probabilities, replay against op by op (Infinity if the classes differ). */
  classifyMaxDiff: number;
  /** Largest |Δ| of the (max-normalised) Grad-CAM map and of the explained class's logit. */
  gradcamMapMaxDiff: number;
  gradcamLogitDiff: number;
  /** Whether the replay really read the new picture: its map differs from the captured picture's. */
  replayUsedNewInput: boolean;
  /**
   * tfjs kernels the op-by-op and the replayed Grad-CAM frame asked for: a replay dispatches the
   * recorded work itself, so far fewer go through tfjs (a zero difference with as many kernels
   * would mean nothing was replayed).
   */
  kernels: { opByOp: number; replayed: number };
  layer: string;
  seconds: number;
  error: string | null;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/**
 * Op by op on `image`, then captured on its mirror image and replayed on `image`: six frames of
 * each kind (two op by op, two captures, two replays). `explainer.useGraphCapture` is left on.
 */
export async function checkCapture(explainer: Explainer, model: string, image: RgbaImage): Promise<CaptureCheck> {
  const t0 = performance.now();
  const other = flipped(image);
  const request = { method: 'gradcam' as const, crop: 'center' as const };
  try {
    explainer.useGraphCapture = false;
    const directClass = await explainer.classify(image, { topK: 5 });
    let directMap!: Explanation;
    const opByOp = await countKernels(async () => (directMap = await explainer.explain(image, request)));
    explainer.useGraphCapture = true;
    await explainer.classify(other, { topK: 5 });
    const capturedMap = await explainer.explain(other, request);
    const replayedClass = await explainer.classify(image, { topK: 5 });
    let replayedMap!: Explanation;
    const replayed = await countKernels(async () => (replayedMap = await explainer.explain(image, request)));
    const sameClasses =
      replayedClass.predictions.map((p) => p.classIndex).join() ===
      directClass.predictions.map((p) => p.classIndex).join();
    return {
      model,
      classifyMaxDiff: sameClasses
        ? maxAbsDiff(
            replayedClass.predictions.map((p) => p.score),
            directClass.predictions.map((p) => p.score),
          )
        : Infinity,
      gradcamMapMaxDiff: maxAbsDiff(replayedMap.heatmap.data, directMap.heatmap.data),
      gradcamLogitDiff:
        replayedMap.target.classIndex === directMap.target.classIndex
          ? Math.abs(replayedMap.target.logit - directMap.target.logit)
          : Infinity,
      replayUsedNewInput: maxAbsDiff(replayedMap.heatmap.data, capturedMap.heatmap.data) > 1e-3,
      kernels: { opByOp: opByOp.kernels, replayed: replayed.kernels },
      layer: replayedMap.layer,
      seconds: (performance.now() - t0) / 1000,
      error: explainer.graphCaptureError,
    };
  } catch (e) {
    explainer.useGraphCapture = true;
    return {
      model,
      classifyMaxDiff: NaN,
      gradcamMapMaxDiff: NaN,
      gradcamLogitDiff: NaN,
      replayUsedNewInput: false,
      kernels: { opByOp: 0, replayed: 0 },
      layer: '',
      seconds: (performance.now() - t0) / 1000,
      error: (e as Error).message,
    };
  }
}

export function captureTable(checks: readonly CaptureCheck[]): string {
  const e = (v: number): string => (Number.isFinite(v) ? v.toExponential(1) : String(v));
  const lines = [
    '| model | layer | classify top-5 max abs diff | Grad-CAM map max abs diff | logit diff | replay read the new picture | tfjs kernels op by op / replayed | seconds | error |',
    '|---|---|---|---|---|---|---|---|---|',
  ];
  for (const c of checks) {
    lines.push(
      `| ${c.model} | ${c.layer} | ${e(c.classifyMaxDiff)} | ${e(c.gradcamMapMaxDiff)} | ${e(c.gradcamLogitDiff)} | ${c.replayUsedNewInput ? 'yes' : 'no'} | ${c.kernels.opByOp} / ${c.kernels.replayed} | ${c.seconds.toFixed(1)} | ${c.error ?? ''} |`,
    );
  }
  return lines.join('\n');
}

import { normalizeHeatmapInPlace } from '../methods/heatmap.js';
import type { HeldOutExample, TaughtHead } from './teach.js';

/**
 * Teach mode's mistakes: the confusion matrix of the held-back examples and, for each of them, the
 * CAM of the predicted and of the true class. The head is linear straight after global average
 * pooling, so CAM is exact there (and equals Grad-CAM with the logit reduction at that layer):
 * Σ_k w[k, c] · A_k, computed from the conv map kept with the example, then shown as every live
 * map is (ReLU, min–max to [0, 1]).
 */

/** A heatmap as the report carries it: `height` rows of `width` values in [0, 1]. */
export interface ReportHeatmap {
  width: number;
  height: number;
  data: Float32Array;
}

export interface ReportExample {
  trueClass: number;
  predictedClass: number;
  /** The head's probability of the predicted class. */
  score: number;
  /** The page's id of the example (its thumbnail), and its index among its class's examples. */
  exampleId: number;
  index: number;
  /** The map of the predicted class, and of the true class (the same map when they agree). */
  heatmap: ReportHeatmap;
  trueHeatmap: ReportHeatmap;
}

export interface TeachReport {
  labels: string[];
  /** confusion[true][predicted]: held-back examples counted once each. */
  confusion: number[][];
  examples: ReportExample[];
}

/** The conv map of one example (height × width × channels, row-major). */
export interface ExampleMap {
  width: number;
  height: number;
  data: Float32Array;
}

/** CAM of `classIndex` over an example's conv map with the head's kernel ([channels, classes], row-major). */
export function headCam(
  map: ExampleMap,
  head: Pick<TaughtHead, 'kernel' | 'featureSize'>,
  classIndex: number,
  classes: number,
): ReportHeatmap {
  const channels = head.featureSize;
  const cells = map.width * map.height;
  if (map.data.length !== cells * channels)
    throw new Error(`internal: a conv map of ${map.data.length} values is not ${cells} cells × ${channels} channels`);
  const out = new Float32Array(cells);
  for (let p = 0; p < cells; p++) {
    let sum = 0;
    const row = p * channels;
    for (let k = 0; k < channels; k++) sum += map.data[row + k]! * head.kernel[k * classes + classIndex]!;
    out[p] = sum;
  }
  return { width: map.width, height: map.height, data: normalizeHeatmapInPlace(out) };
}

/**
 * The report of a fitted head: `ids[c][i]` is the page's id of class c's example i, `mapOf` its conv map.
 */
export function teachReport(
  head: Pick<TaughtHead, 'labels' | 'kernel' | 'featureSize' | 'heldOut'>,
  ids: readonly (readonly number[])[],
  mapOf: (exampleId: number) => ExampleMap | undefined,
): TeachReport {
  const n = head.labels.length;
  const confusion = head.labels.map(() => new Array<number>(n).fill(0));
  const examples: ReportExample[] = [];
  for (const e of head.heldOut as readonly HeldOutExample[]) {
    confusion[e.trueClass]![e.predictedClass]! += 1;
    const exampleId = ids[e.trueClass]![e.example]!;
    const map = mapOf(exampleId);
    if (!map) throw new Error(`internal: example ${exampleId} has no conv map`);
    const heatmap = headCam(map, head, e.predictedClass, n);
    const trueHeatmap = e.trueClass === e.predictedClass ? heatmap : headCam(map, head, e.trueClass, n);
    examples.push({
      trueClass: e.trueClass,
      predictedClass: e.predictedClass,
      score: e.probabilities[e.predictedClass]!,
      exampleId,
      index: e.example,
      heatmap,
      trueHeatmap,
    });
  }
  return { labels: [...head.labels], confusion, examples };
}

import * as tf from '@tensorflow/tfjs-core';
import { batchProbabilities } from '../network/batch.js';
import type { Heatmap } from '../methods/types.js';
import { mulberry32 } from '../random.js';
import type { Network } from '../network/network.js';
import { meanColour, probabilitiesOf, scaleToUnit } from './masking.js';
import { checkpoint, type ProgressOptions, throwIfAborted } from '../progress.js';
import { type Segmentation, SEGMENTATIONS } from './names.js';

export { type Segmentation, SEGMENTATIONS } from './names.js';

/**
 * LIME for images (Ribeiro et al. 2016; MATLAB's `imageLIME` with `Model` 'linear'): cut the
 * picture into features (a grid or superpixels), switch random subsets of them off (replaced by the
 * picture's mean colour), and fit a weighted linear model from "which features were on" to the
 * target's probability. A feature's coefficient is its importance.
 */

export interface LimeOptions extends ProgressOptions {
  /** How many features to cut the picture into (MATLAB's NumFeatures, default 49: a 7×7 grid). */
  numFeatures?: number;
  /** Perturbed pictures to fit on (MATLAB's NumSamples, default 2048). */
  numSamples?: number;
  /** Default `superpixels` (SLIC), as MATLAB; `grid` is faster and regular. */
  segmentation?: Segmentation;
  /** Width of the exponential kernel on the cosine distance to the full picture (default 0.25, as LIME). */
  kernelWidth?: number;
  /** Ridge penalty of the weighted linear fit (default 1, as LIME). */
  ridge?: number;
  /** Seed of the random feature subsets (default 1). */
  seed?: number;
  /** Perturbed inputs per forward pass (default 16). */
  batchSize?: number;
}

export interface LimeResult {
  /** Coefficients painted onto their segments at input resolution, ReLU'd and scaled to [0, 1]. */
  heatmap: Heatmap;
  /** Segment of each input pixel (row-major), 0 … features − 1. */
  segments: Int32Array;
  /** The linear model's coefficient per feature (its intercept apart). */
  coefficients: Float64Array;
  intercept: number;
  /** The target's probability on the full input. */
  probability: number;
  features: number;
  numSamples: number;
}

export const DEFAULT_LIME = {
  numFeatures: 49,
  numSamples: 2048,
  segmentation: 'superpixels',
  kernelWidth: 0.25,
  ridge: 1,
} as const;

/** A g×g grid of equal cells, g = round(√features). */
export function gridSegments(height: number, width: number, features: number): { segments: Int32Array; count: number } {
  const g = Math.max(1, Math.round(Math.sqrt(features)));
  const segments = new Int32Array(height * width);
  for (let y = 0; y < height; y++) {
    const row = Math.min(g - 1, Math.floor((y * g) / height));
    for (let x = 0; x < width; x++) segments[y * width + x] = row * g + Math.min(g - 1, Math.floor((x * g) / width));
  }
  return { segments, count: g * g };
}

/**
 * SLIC superpixels (Achanta et al. 2012) on the input's colours: k-means in (colour, position)
 * space with each centre searching a 2S×2S window, S = √(pixels / features). `compactness` weighs
 * position against colour (in input units: 0.2 for inputs spanning [−1, 1] is SLIC's usual 10 on
 * a 0–100 scale). Labels are renumbered 0 … count − 1 (clusters left empty are dropped).
 */
export function slicSegments(
  pixels: Float32Array,
  height: number,
  width: number,
  features: number,
  compactness = 0.2,
  iterations = 10,
): { segments: Int32Array; count: number } {
  const channels = pixels.length / (height * width);
  const step = Math.max(1, Math.sqrt((height * width) / features));
  const centres: number[][] = [];
  for (let y = step / 2; y < height; y += step) {
    for (let x = step / 2; x < width; x += step) {
      const i = Math.floor(y) * width + Math.floor(x);
      centres.push([y, x, ...Array.from({ length: channels }, (_, c) => pixels[i * channels + c]!)]);
    }
  }
  const labels = new Int32Array(height * width).fill(-1);
  const best = new Float64Array(height * width);
  const spatial = (compactness / step) ** 2;
  for (let it = 0; it < iterations; it++) {
    best.fill(Infinity);
    centres.forEach((centre, k) => {
      const [cy, cx] = centre as [number, number];
      for (let y = Math.max(0, Math.floor(cy - step)); y < Math.min(height, Math.ceil(cy + step)); y++) {
        for (let x = Math.max(0, Math.floor(cx - step)); x < Math.min(width, Math.ceil(cx + step)); x++) {
          const i = y * width + x;
          let colour = 0;
          for (let c = 0; c < channels; c++) colour += (pixels[i * channels + c]! - centre[2 + c]!) ** 2;
          const d = colour + spatial * ((y - cy) ** 2 + (x - cx) ** 2);
          if (d < best[i]!) {
            best[i] = d;
            labels[i] = k;
          }
        }
      }
    });
    const sums = centres.map(() => new Float64Array(2 + channels + 1));
    for (let i = 0; i < labels.length; i++) {
      const s = sums[labels[i]!]!;
      s[0]! += Math.floor(i / width);
      s[1]! += i % width;
      for (let c = 0; c < channels; c++) s[2 + c]! += pixels[i * channels + c]!;
      s[2 + channels]! += 1;
    }
    sums.forEach((s, k) => {
      const n = s[2 + channels]!;
      if (n > 0) centres[k] = Array.from(s.subarray(0, 2 + channels), (v) => v / n);
    });
  }
  const renumber = new Map<number, number>();
  const segments = new Int32Array(labels.length);
  for (let i = 0; i < labels.length; i++) {
    let id = renumber.get(labels[i]!);
    if (id === undefined) {
      id = renumber.size;
      renumber.set(labels[i]!, id);
    }
    segments[i] = id;
  }
  return { segments, count: renumber.size };
}

/**
 * Minimises Σ wᵢ (yᵢ − b − xᵢ·β)² + λ‖β‖² (the intercept b unpenalised) through the normal
 * equations, solved by Gaussian elimination with partial pivoting (the system is features + 1 square).
 */
export function weightedRidge(
  x: readonly Uint8Array[],
  y: ArrayLike<number>,
  w: ArrayLike<number>,
  lambda: number,
): { intercept: number; coefficients: Float64Array } {
  const f = x[0]!.length;
  const n = f + 1;
  const a = Array.from({ length: n }, () => new Float64Array(n + 1));
  for (let s = 0; s < x.length; s++) {
    const row = x[s]!;
    const ws = w[s]!;
    const v = [1, ...row];
    for (let i = 0; i < n; i++) {
      if (v[i] === 0) continue;
      const wi = ws * v[i]!;
      const ai = a[i]!;
      for (let j = 0; j < n; j++) ai[j]! += wi * v[j]!;
      ai[n]! += wi * y[s]!;
    }
  }
  for (let i = 1; i < n; i++) a[i]![i]! += lambda;
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let r = col + 1; r < n; r++) if (Math.abs(a[r]![col]!) > Math.abs(a[pivot]![col]!)) pivot = r;
    [a[col], a[pivot]] = [a[pivot]!, a[col]!];
    const p = a[col]![col]!;
    if (Math.abs(p) < 1e-12) continue;
    for (let r = 0; r < n; r++) {
      if (r === col) continue;
      const factor = a[r]![col]! / p;
      if (factor === 0) continue;
      for (let j = col; j <= n; j++) a[r]![j]! -= factor * a[col]![j]!;
    }
  }
  const solution = a.map((row, i) => (Math.abs(row[i]!) < 1e-12 ? 0 : row[n]! / row[i]!));
  return { intercept: solution[0]!, coefficients: Float64Array.from(solution.slice(1)) };
}

/** LIME of `classIndex` on a preprocessed [1, H, W, C] input (the caller keeps it). */
export async function lime(
  network: Network,
  input: tf.Tensor4D,
  classIndex: number,
  options: LimeOptions = {},
): Promise<LimeResult> {
  const [, h, w, c] = input.shape;
  const numFeatures = options.numFeatures ?? DEFAULT_LIME.numFeatures;
  const numSamples = options.numSamples ?? DEFAULT_LIME.numSamples;
  const segmentation = options.segmentation ?? DEFAULT_LIME.segmentation;
  const kernelWidth = options.kernelWidth ?? DEFAULT_LIME.kernelWidth;
  const batchSize = Math.max(1, options.batchSize ?? 16);
  if (!(Number.isInteger(numFeatures) && numFeatures >= 1 && numFeatures <= h * w))
    throw new RangeError(`numFeatures must be a whole number from 1 to ${h * w}; got ${numFeatures}`);
  if (!(Number.isInteger(numSamples) && numSamples >= 2))
    throw new RangeError(`numSamples must be a whole number ≥ 2; got ${numSamples}`);
  if (!SEGMENTATIONS.includes(segmentation))
    throw new RangeError(`segmentation must be ${SEGMENTATIONS.join(' or ')}; got ${String(segmentation)}`);

  const { segments, count } =
    segmentation === 'grid'
      ? gridSegments(h, w, numFeatures)
      : slicSegments((await input.data()) as Float32Array, h, w, numFeatures);
  const random = mulberry32(options.seed ?? 1);
  // The first sample is the whole picture, as in LIME.
  const samples = Array.from({ length: numSamples }, (_, s) =>
    Uint8Array.from({ length: count }, () => (s === 0 ? 1 : random() < 0.5 ? 1 : 0)),
  );
  const fill = tf.tensor4d(await meanColour(input), [1, 1, 1, c]);
  const probability = await probabilitiesOf(network, input, classIndex);
  const y = new Float32Array(numSamples);
  try {
    for (let start = 0; start < numSamples; start += batchSize) {
      throwIfAborted(options.signal);
      await checkpoint(options.signal);
      const chunk = samples.slice(start, start + batchSize);
      const masks = new Float32Array(chunk.length * h * w);
      chunk.forEach((z, i) => {
        const offset = i * h * w;
        for (let p = 0; p < h * w; p++) masks[offset + p] = z[segments[p]!]!;
      });
      const scores = tf.tidy(() => {
        const keep = tf.tensor4d(masks, [chunk.length, h, w, 1]);
        const batch = tf.add(tf.mul(input, keep), tf.mul(fill, tf.sub(1, keep))) as tf.Tensor4D;
        return tf.reshape(tf.slice(batchProbabilities(network, batch), [0, classIndex], [chunk.length, 1]), [-1]);
      });
      y.set((await scores.data()) as Float32Array, start);
      scores.dispose();
      options.onProgress?.(start + chunk.length, numSamples);
    }
  } finally {
    fill.dispose();
  }
  // Exponential kernel on the cosine distance between a sample and the all-on vector.
  const weights = samples.map((z) => {
    const on = z.reduce((a, b) => a + b, 0);
    const distance = on === 0 ? 1 : 1 - on / (Math.sqrt(on) * Math.sqrt(count));
    return Math.exp(-(distance ** 2) / kernelWidth ** 2);
  });
  const { intercept, coefficients } = weightedRidge(samples, y, weights, options.ridge ?? DEFAULT_LIME.ridge);
  const painted = Float32Array.from(segments, (s) => coefficients[s]!);
  return {
    heatmap: { width: w, height: h, data: scaleToUnit(painted) },
    segments,
    coefficients,
    intercept,
    probability,
    features: count,
    numSamples,
  };
}

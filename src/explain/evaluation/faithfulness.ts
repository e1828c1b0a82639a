import * as tf from '@tensorflow/tfjs-core';
import { batchProbabilities } from '../network/batch.js';
import type { Network } from '../network/network.js';
import { type ProgressOptions, throwIfAborted } from '../progress.js';
import { mulberry32 } from '../random.js';

/**
 * Deletion and insertion (Petsiuk et al., "RISE", 2018): how fast the target's probability falls
 * when the pixels a map ranks highest are removed first, and how fast it rises when they are put
 * back first into a blurred copy. A map that shows what the network uses gives a low deletion and
 * a high insertion area under the curve.
 */
interface FaithfulnessOptions extends ProgressOptions {
  /** Points on each curve after the start: step k removes (or restores) round(k/steps) of the pixels. Default 16. */
  steps?: number;
  /** σ of the Gaussian blur of the insertion start image, in input pixels; the kernel spans ±⌈σ⌉. Default 5: RISE's 11×11 kernel, σ = 5. */
  blurSigma?: number;
  /** Perturbed inputs per forward pass. Default 17 (one curve of the default 16 steps). */
  batchSize?: number;
  /**
   * What deleted pixels become, in the network's input units. Default 0: mid-grey for a network
   * whose inputs span [−1, 1] (MobileNet), i.e. the mean of its input range.
   */
  deletionValue?: number;
}

export interface Curves {
  /** Target probability after removing 0, 1/steps, …, all of the pixels, highest-ranked first. */
  deletion: Float32Array;
  /** Target probability after restoring 0, 1/steps, …, all of the pixels into the blurred copy. */
  insertion: Float32Array;
  deletionAuc: number;
  insertionAuc: number;
}

export const DEFAULT_FAITHFULNESS = { steps: 16, blurSigma: 5, batchSize: 17, deletionValue: 0 } as const;

/** Area under a curve sampled at equal steps on [0, 1] (trapezoids). */
export function areaUnderCurve(values: ArrayLike<number>): number {
  const n = values.length - 1;
  if (n < 1) return values.length === 1 ? values[0]! : 0;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += (values[i]! + values[i + 1]!) / 2;
  return sum / n;
}

/**
 * Each pixel's place in the order of removal: 0 for the highest value. Ties (the flat zero
 * region of a ReLU map, say) are broken by a seeded shuffle, not by position, so that a map
 * does not get credit for the order of its zeros.
 */
export function pixelRanks(saliency: ArrayLike<number>, seed = 1): Int32Array {
  const n = saliency.length;
  const random = mulberry32(seed);
  const tieBreak = new Float64Array(n);
  for (let i = 0; i < n; i++) tieBreak[i] = random();
  const order = Array.from({ length: n }, (_, i) => i);
  order.sort((a, b) => saliency[b]! - saliency[a]! || tieBreak[a]! - tieBreak[b]!);
  const ranks = new Int32Array(n);
  order.forEach((pixel, rank) => {
    ranks[pixel] = rank;
  });
  return ranks;
}

/**
 * Gaussian blur of an [1, H, W, C] image with a (2⌈σ⌉+1)-tap separable kernel (RISE's 11×11 at
 * σ = 5), normalised at the borders so that zero padding leaves no dark frame.
 */
export function gaussianBlur(x: tf.Tensor4D, sigma: number): tf.Tensor4D {
  if (!(sigma > 0)) return tf.clone(x);
  return tf.tidy(() => {
    const radius = Math.max(1, Math.ceil(sigma));
    const taps = Array.from({ length: 2 * radius + 1 }, (_, i) => Math.exp(-((i - radius) ** 2) / (2 * sigma * sigma)));
    const total = taps.reduce((a, b) => a + b, 0);
    const kernel = taps.map((t) => t / total);
    const channels = x.shape[3];
    const rows = tf.tile(tf.reshape(tf.tensor1d(kernel), [kernel.length, 1, 1, 1]), [1, 1, channels, 1]) as tf.Tensor4D;
    const cols = tf.reshape(rows, [1, kernel.length, channels, 1]) as tf.Tensor4D;
    const blur = (t: tf.Tensor4D): tf.Tensor4D =>
      tf.depthwiseConv2d(tf.depthwiseConv2d(t, rows, 1, 'same'), cols, 1, 'same');
    return tf.div(blur(x), blur(tf.onesLike(x))) as tf.Tensor4D;
  });
}

/**
 * Deletion and insertion curves of saliency maps for one preprocessed input and class. The
 * blurred copy is made once; `curves` can then be called for any number of maps. Perturbed
 * inputs go through the network in batches. Dispose when done.
 */
export class FaithfulnessProbe {
  readonly steps: number;
  readonly blurSigma: number;
  private readonly batchSize: number;
  private readonly deletionValue: number;
  private readonly blurred: tf.Tensor4D;
  private readonly pixels: number;

  /** `input` is [1, H, W, C] in the network's units; the caller keeps ownership of it. */
  constructor(
    private readonly network: Network,
    private readonly input: tf.Tensor4D,
    private readonly classIndex: number,
    options: FaithfulnessOptions = {},
  ) {
    this.steps = options.steps ?? DEFAULT_FAITHFULNESS.steps;
    this.blurSigma = options.blurSigma ?? DEFAULT_FAITHFULNESS.blurSigma;
    this.batchSize = Math.max(1, options.batchSize ?? DEFAULT_FAITHFULNESS.batchSize);
    this.deletionValue = options.deletionValue ?? DEFAULT_FAITHFULNESS.deletionValue;
    if (!(Number.isInteger(this.steps) && this.steps >= 1))
      throw new RangeError(`steps must be a whole number ≥ 1; got ${this.steps}`);
    this.pixels = input.shape[1] * input.shape[2];
    this.blurred = gaussianBlur(input, this.blurSigma);
  }

  /**
   * Both curves for a map given at the input's resolution (`H×W` values, row-major; higher =
   * more important). Progress counts forward-pass inputs.
   */
  async curves(saliency: ArrayLike<number>, options: ProgressOptions = {}): Promise<Curves> {
    if (saliency.length !== this.pixels)
      throw new RangeError(`the map has ${saliency.length} values; the input has ${this.pixels} pixels`);
    const [, h, w] = this.input.shape;
    const ranks = tf.tensor4d(pixelRanks(saliency), [1, h, w, 1], 'int32');
    try {
      const counts = Array.from({ length: this.steps + 1 }, (_, k) => Math.round((k * this.pixels) / this.steps));
      const jobs = [
        ...counts.map((c) => ({ kind: 'deletion' as const, count: c })),
        ...counts.map((c) => ({ kind: 'insertion' as const, count: c })),
      ];
      const probs = new Float32Array(jobs.length);
      for (let start = 0; start < jobs.length; start += this.batchSize) {
        throwIfAborted(options.signal);
        const chunk = jobs.slice(start, start + this.batchSize);
        const scores = tf.tidy(() => {
          // mask = 1 where a pixel is among the first `count` of the order (removed / restored).
          const thresholds = tf.tensor4d(
            chunk.map((j) => j.count),
            [chunk.length, 1, 1, 1],
            'int32',
          );
          const mask = tf.cast(tf.less(ranks, thresholds), 'float32');
          const isDeletion = tf.tensor4d(
            chunk.map((j) => (j.kind === 'deletion' ? 1 : 0)),
            [chunk.length, 1, 1, 1],
          );
          const deleted = tf.add(tf.mul(this.input, tf.sub(1, mask)), tf.mul(mask, this.deletionValue));
          const inserted = tf.add(this.blurred, tf.mul(tf.sub(this.input, this.blurred), mask));
          const batch = tf.add(tf.mul(deleted, isDeletion), tf.mul(inserted, tf.sub(1, isDeletion))) as tf.Tensor4D;
          const p = batchProbabilities(this.network, batch);
          return tf.reshape(tf.slice(p, [0, this.classIndex], [chunk.length, 1]), [-1]);
        });
        probs.set((await scores.data()) as Float32Array, start);
        scores.dispose();
        options.onProgress?.(Math.min(start + chunk.length, jobs.length), jobs.length);
      }
      const deletion = probs.slice(0, counts.length);
      const insertion = probs.slice(counts.length);
      return { deletion, insertion, deletionAuc: areaUnderCurve(deletion), insertionAuc: areaUnderCurve(insertion) };
    } finally {
      ranks.dispose();
    }
  }

  dispose(): void {
    this.blurred.dispose();
  }
}

import * as tf from '@tensorflow/tfjs-core';
import { batchProbabilities } from '../network/batch.js';
import type { Heatmap } from '../methods/types.js';
import type { Network } from '../network/network.js';
import { checkpoint, type ProgressOptions, throwIfAborted } from '../progress.js';
import { meanColour, probabilitiesOf, scaleToUnit } from './masking.js';

/**
 * Occlusion sensitivity (Zeiler & Fergus 2014; MATLAB's `occlusionSensitivity`): slide a square
 * patch over the input and record how much the target's probability drops when it hides each place.
 * Model-agnostic and slow (one forward pass per position), so for still pictures only.
 */
export interface OcclusionOptions extends ProgressOptions {
  /** Side of the square patch in input pixels. Default: 20 % of the input's shorter side (45 at 224). */
  maskSize?: number;
  /** Distance between patch centres in input pixels. Default: 10 % of the shorter side (22 at 224). */
  stride?: number;
  /**
   * What hidden pixels become, in the network's input units (one value, or one per channel).
   * Default: the picture's mean colour (per channel), as MATLAB's `MaskValue` 'auto'.
   */
  maskValue?: number | readonly number[];
  /** Patched inputs per forward pass (default 16). */
  batchSize?: number;
}

export interface OcclusionResult {
  /** Probability drop per patch position, ReLU'd and scaled to [0, 1]; one cell per position. */
  heatmap: Heatmap;
  /** The raw drops (probability without the patch − with it), same layout. */
  drops: Float32Array;
  /** The target's probability on the unoccluded input. */
  probability: number;
  maskSize: number;
  stride: number;
  maskValue: number[];
  /** Forward passes run (positions + 1). */
  forwardPasses: number;
}

export function defaultOcclusionGeometry(height: number, width: number): { maskSize: number; stride: number } {
  const side = Math.min(height, width);
  return { maskSize: Math.max(1, Math.round(side * 0.2)), stride: Math.max(1, Math.round(side * 0.1)) };
}

/**
 * Patch centres along one axis: ⌈size / stride⌉ of them, spread evenly so that position k is the
 * centre of the k-th of equal cells covering the axis; the heatmap cell k then maps back onto
 * exactly the part of the picture its patch was centred on. Patches are clipped at the edges.
 */
function centres(size: number, stride: number): number[] {
  const count = Math.max(1, Math.ceil(size / stride));
  return Array.from({ length: count }, (_, k) => ((k + 0.5) * size) / count);
}

/** Occlusion sensitivity of `classIndex` on a preprocessed [1, H, W, C] input (the caller keeps it). */
export async function occlusionSensitivity(
  network: Network,
  input: tf.Tensor4D,
  classIndex: number,
  options: OcclusionOptions = {},
): Promise<OcclusionResult> {
  const [, h, w, c] = input.shape;
  const geometry = defaultOcclusionGeometry(h, w);
  const maskSize = options.maskSize ?? geometry.maskSize;
  const stride = options.stride ?? geometry.stride;
  const batchSize = Math.max(1, options.batchSize ?? 16);
  if (!(Number.isInteger(maskSize) && maskSize >= 1 && maskSize <= Math.max(h, w)))
    throw new RangeError(`maskSize must be a whole number from 1 to ${Math.max(h, w)}; got ${maskSize}`);
  if (!(Number.isInteger(stride) && stride >= 1))
    throw new RangeError(`stride must be a whole number ≥ 1; got ${stride}`);
  const maskValue =
    options.maskValue === undefined
      ? await meanColour(input)
      : typeof options.maskValue === 'number'
        ? new Array<number>(c).fill(options.maskValue)
        : [...options.maskValue];
  if (maskValue.length !== c)
    throw new RangeError(`maskValue needs ${c} values (one per channel); got ${maskValue.length}`);

  const ys = centres(h, stride);
  const xs = centres(w, stride);
  const positions = ys.flatMap((cy) => xs.map((cx) => ({ cy, cx })));
  const half = maskSize / 2;
  const rect = (centre: number, size: number): [number, number] => [
    Math.max(0, Math.round(centre - half)),
    Math.min(size, Math.round(centre - half) + maskSize),
  ];

  const original = await probabilitiesOf(network, input, classIndex);
  const drops = new Float32Array(positions.length);
  const fill = tf.tensor4d(maskValue, [1, 1, 1, c]);
  try {
    for (let start = 0; start < positions.length; start += batchSize) {
      throwIfAborted(options.signal);
      await checkpoint(options.signal);
      const chunk = positions.slice(start, start + batchSize);
      // Masks built in JS (tiny: H×W per position) and applied on the device in one broadcast.
      const masks = new Float32Array(chunk.length * h * w);
      chunk.forEach(({ cy, cx }, i) => {
        const [y0, y1] = rect(cy, h);
        const [x0, x1] = rect(cx, w);
        for (let y = y0; y < y1; y++) masks.fill(1, i * h * w + y * w + x0, i * h * w + y * w + x1);
      });
      const scores = tf.tidy(() => {
        const mask = tf.tensor4d(masks, [chunk.length, h, w, 1]);
        const batch = tf.add(tf.mul(input, tf.sub(1, mask)), tf.mul(fill, mask)) as tf.Tensor4D;
        return tf.reshape(tf.slice(batchProbabilities(network, batch), [0, classIndex], [chunk.length, 1]), [-1]);
      });
      const p = await scores.data();
      scores.dispose();
      p.forEach((v, i) => {
        drops[start + i] = original - v;
      });
      options.onProgress?.(start + chunk.length, positions.length);
    }
  } finally {
    fill.dispose();
  }
  return {
    heatmap: { width: xs.length, height: ys.length, data: scaleToUnit(drops) },
    drops,
    probability: original,
    maskSize,
    stride,
    maskValue,
    forwardPasses: positions.length + 1,
  };
}

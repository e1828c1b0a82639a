import * as tf from '@tensorflow/tfjs-core';
import { WhyCamError } from '../errors.js';
import { type FrameSampling, sampleFrame } from './kernels/index.js';

/**
 * Which part of the picture the network sees:
 * - `center`: the largest centred rectangle with the network's aspect ratio (a square for 224×224),
 *   scaled to the input size. Keeps proportions; the edges of a wide camera frame are not explained.
 * - `full`: the whole picture, squashed to the input size (MATLAB's `imresize(img, inputSize)`).
 */
export type CropPolicy = 'center' | 'full';

export const CROP_POLICIES: readonly CropPolicy[] = ['center', 'full'];

/** A rectangle in source pixels; the heatmap grid covers exactly this rectangle. */
export interface Region {
  x: number;
  y: number;
  width: number;
  height: number;
}

export function cropRegion(
  width: number,
  height: number,
  inputSize: readonly [number, number],
  policy: CropPolicy,
): Region {
  if (!(width > 0 && height > 0)) {
    throw new WhyCamError('bad-image', `The image is empty (${width}×${height} pixels).`);
  }
  if (policy === 'full') return { x: 0, y: 0, width, height };
  const [inH, inW] = inputSize;
  const aspect = inW / inH;
  let w = width;
  let h = Math.round(width / aspect);
  if (h > height) {
    h = height;
    w = Math.round(height * aspect);
  }
  return { x: Math.floor((width - w) / 2), y: Math.floor((height - h) / 2), width: w, height: h };
}

/**
 * The cropped RGB pixels (h×w×3, values 0..255) → the network's input batch [1, H, W, 3], with
 * the input kernel every other path uses (`sampleFrame`): half-pixel centres, so that the heatmap
 * maps back onto the crop without a shift, and an area average along an axis that shrinks by
 * more than 2×, so that a big photo does not alias.
 */
export function preprocess(
  rgb: tf.Tensor3D,
  inputSize: readonly [number, number],
  inputRange: readonly [number, number],
): tf.Tensor4D {
  const [height, width] = rgb.shape;
  return sampleFrame(rgb, inputSampling({ x: 0, y: 0, width, height }, inputSize, inputRange));
}

/** How the network input is sampled from the region (see `toInputTensor`): the same maths as `preprocess`. */
export function inputSampling(
  region: Region,
  inputSize: readonly [number, number],
  inputRange: readonly [number, number],
): FrameSampling {
  const [lo, hi] = inputRange;
  return {
    region: [region.x, region.y, region.width, region.height],
    outSize: [inputSize[0], inputSize[1]],
    scale: (hi - lo) / 255,
    offset: lo,
  };
}

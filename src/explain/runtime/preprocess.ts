import * as tf from '@tensorflow/tfjs-core';
import { WhyCamError } from '../errors.js';
import type { FrameSampling } from './kernels/reference.js';

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
 * The cropped RGB pixels (h×w×3, values 0..255) → the network's input batch [1, H, W, 3].
 * Resizing uses half-pixel centres so that the heatmap maps back onto the crop without a shift.
 */
export function preprocess(
  rgb: tf.Tensor3D,
  inputSize: readonly [number, number],
  inputRange: readonly [number, number],
): tf.Tensor4D {
  return tf.tidy(() => {
    let x: tf.Tensor3D = rgb.dtype === 'float32' ? rgb : tf.cast(rgb, 'float32');
    const [inH, inW] = inputSize;
    if (x.shape[0] !== inH || x.shape[1] !== inW) {
      x = tf.image.resizeBilinear(x, [inH, inW], false, true);
    }
    const [lo, hi] = inputRange;
    return tf.expandDims(tf.add(tf.mul(x, (hi - lo) / 255), lo), 0) as tf.Tensor4D;
  });
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

import type * as tf from '@tensorflow/tfjs-core';
import { type FrameSampling, sampleFrame } from './kernels/index.js';
import type { Region } from './crop.js';

// The crop policies and regions live in crop.ts, without tfjs (the page imports them there).
export { type CropPolicy, CROP_POLICIES, cropRegion, type Region } from './crop.js';

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

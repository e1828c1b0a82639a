import { WhyCamError } from '../errors.js';

// Which part of the picture the network sees, without tfjs: the page imports these (it never
// loads tfjs), the engine the same ones through preprocess.ts.

/**
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

import * as tf from '@tensorflow/tfjs-core';
import type { RgbaImage } from '../../src/explain/runtime/input.js';
import type { Region } from '../../src/explain/runtime/preprocess.js';

/**
 * The network input as the input kernel should make it, written independently of it (plain
 * loops over source pixels, and tfjs's own resizeBilinear): the region cropped; along an axis
 * that shrinks by more than 2×, each output pixel the mean of the source area it covers (a
 * source pixel weighs the share of it inside); then tf.image.resizeBilinear with half-pixel
 * centres for the axes left (an identity on those already at the output size); then scaled.
 */
export async function referenceInput(
  image: RgbaImage,
  region: Region,
  outSize: readonly [number, number],
  range: readonly [number, number],
): Promise<Float32Array> {
  const [outH, outW] = outSize;
  let h = region.height;
  let w = region.width;
  let rgb = new Float64Array(h * w * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let k = 0; k < 3; k++) {
        rgb[(y * w + x) * 3 + k] = image.data[((region.y + y) * image.width + region.x + x) * 4 + k]!;
      }
    }
  }
  if (w / outW > 2) {
    const next = new Float64Array(h * outW * 3);
    for (let y = 0; y < h; y++) {
      for (let c = 0; c < outW; c++) {
        const [from, to] = [(c * w) / outW, ((c + 1) * w) / outW];
        for (let x = Math.floor(from); x < Math.ceil(to); x++) {
          const inside = Math.min(to, x + 1) - Math.max(from, x);
          if (inside <= 0) continue;
          for (let k = 0; k < 3; k++)
            next[(y * outW + c) * 3 + k]! += (rgb[(y * w + x) * 3 + k]! * inside) / (to - from);
        }
      }
    }
    [rgb, w] = [next, outW];
  }
  if (h / outH > 2) {
    const next = new Float64Array(outH * w * 3);
    for (let r = 0; r < outH; r++) {
      const [from, to] = [(r * h) / outH, ((r + 1) * h) / outH];
      for (let y = Math.floor(from); y < Math.ceil(to); y++) {
        const inside = Math.min(to, y + 1) - Math.max(from, y);
        if (inside <= 0) continue;
        for (let i = 0; i < w * 3; i++) next[r * w * 3 + i]! += (rgb[y * w * 3 + i]! * inside) / (to - from);
      }
    }
    [rgb, h] = [next, outH];
  }
  const [lo, hi] = range;
  const resized = tf.tidy(() =>
    tf.add(
      tf.mul(
        tf.image.resizeBilinear(tf.tensor3d(Float32Array.from(rgb), [h, w, 3]), [outH, outW], false, true),
        (hi - lo) / 255,
      ),
      lo,
    ),
  );
  const data = (await resized.data()) as Float32Array;
  resized.dispose();
  return data;
}

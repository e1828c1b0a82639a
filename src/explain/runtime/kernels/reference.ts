/**
 * The maths of WhyCam's own kernels in plain JavaScript: what the cpu and wasm backends run, and
 * what the WebGPU and WebGL programs must agree with.
 */

/** Where the network's input is sampled from in a frame, and how its values are scaled. */
export interface FrameSampling {
  /** The crop in frame pixels: [x, y, width, height]. */
  region: readonly [number, number, number, number];
  /** The network's input size: [height, width]. */
  outSize: readonly [number, number];
  /** input = pixel · scale + offset (pixels 0..255). */
  scale: number;
  offset: number;
}

/**
 * Along an axis, a shrink by more than this is area-averaged (each output pixel the mean of the
 * source pixels it covers); up to it, the resize is bilinear. At exactly 2× the two agree (the
 * bilinear tap falls midway between the two covered pixels), so the switch makes no jump.
 */
export const AREA_ABOVE = 2;

/**
 * How many source taps one output position takes along an axis of `span` source pixels shrunk
 * to `out`: 2 (bilinear), or ceil(span / out) + 1 when area-averaged (the most source pixels an
 * interval of that length can touch). The GPU programs loop over as many, with the same rule.
 */
export function axisTapCount(span: number, out: number): number {
  const ratio = span / out;
  return ratio > AREA_ABOVE ? Math.ceil(ratio) + 1 : 2;
}

/**
 * The source taps of each output position along one axis of the region, `taps` per position
 * (index, weight; unused taps weigh 0):
 * - bilinear with half-pixel centres, clamped to the region's edges: the same sample positions as
 *   `tf.image.resizeBilinear(crop, size, false, true)`;
 * - area: output pixel p covers [p·r, (p+1)·r) of the region (r = span / out), and each source pixel
 *   weighs the length of its overlap with that interval, / r.
 */
function axisTaps(start: number, span: number, out: number): { taps: number; index: Int32Array; weight: Float32Array } {
  const taps = axisTapCount(span, out);
  const index = new Int32Array(out * taps);
  const weight = new Float32Array(out * taps);
  const ratio = span / out;
  for (let p = 0; p < out; p++) {
    const o = p * taps;
    if (taps === 2) {
      const f = (p + 0.5) * ratio - 0.5;
      const lo = Math.max(0, Math.floor(f));
      const frac = f - lo;
      index[o] = start + lo;
      weight[o] = 1 - frac;
      index[o + 1] = start + Math.min(span - 1, Math.ceil(f));
      weight[o + 1] = frac;
      continue;
    }
    const lo = p * ratio;
    const hi = (p + 1) * ratio;
    const first = Math.floor(lo);
    for (let j = 0; j < taps; j++) {
      const i = first + j;
      index[o + j] = start + Math.min(span - 1, i);
      weight[o + j] = Math.max(0, Math.min(hi, i + 1) - Math.max(lo, i)) / ratio;
    }
  }
  return { taps, index, weight };
}

/**
 * Crops, resizes and scales a frame in one pass: `pixels` holds `channels` values per pixel (3 or
 * 4; only the first three are read), `width` pixels per row. Each axis is resized bilinearly
 * (half-pixel centres), or area-averaged where it shrinks by more than 2× (so that a big photo
 * does not alias). Returns the network input, [height, width, 3] row-major (in `into` when it has
 * that size).
 */
export function sampleFrame(
  pixels: ArrayLike<number>,
  width: number,
  channels: number,
  s: FrameSampling,
  into?: Float32Array,
): Float32Array {
  const [x, y, w, h] = s.region;
  const [outH, outW] = s.outSize;
  const ys = axisTaps(y, h, outH);
  const xs = axisTaps(x, w, outW);
  const out = into?.length === outH * outW * 3 ? into : new Float32Array(outH * outW * 3);
  const rowStride = width * channels;
  let o = 0;
  for (let r = 0; r < outH; r++) {
    for (let c = 0; c < outW; c++) {
      let red = 0;
      let green = 0;
      let blue = 0;
      for (let a = r * ys.taps; a < (r + 1) * ys.taps; a++) {
        const wy = ys.weight[a]!;
        if (wy === 0) continue;
        const row = ys.index[a]! * rowStride;
        for (let b = c * xs.taps; b < (c + 1) * xs.taps; b++) {
          const wxy = xs.weight[b]! * wy;
          if (wxy === 0) continue;
          const i = row + xs.index[b]! * channels;
          red += pixels[i]! * wxy;
          green += pixels[i + 1]! * wxy;
          blue += pixels[i + 2]! * wxy;
        }
      }
      out[o++] = red * s.scale + s.offset;
      out[o++] = green * s.scale + s.offset;
      out[o++] = blue * s.scale + s.offset;
    }
  }
  return out;
}

/** dL/dz of z → relu6(z), from dL/dy and y = relu6(z): the gradient passes where 0 < y < 6. */
export function relu6Backward(dy: ArrayLike<number>, y: ArrayLike<number>): Float32Array {
  const out = new Float32Array(dy.length);
  for (let i = 0; i < out.length; i++) {
    const v = y[i]!;
    out[i] = v > 0 && v < 6 ? dy[i]! : 0;
  }
  return out;
}

/**
 * LayerCAM's channel reduction of [positions, channels] maps: Σ_k relu(g) · a per position; with
 * `rectify` false, HiResCAM's Σ_k g · a (its ReLU comes after the sum, in normalisation).
 */
export function layerCamReduce(
  gradients: ArrayLike<number>,
  activations: ArrayLike<number>,
  channels: number,
  rectify = true,
): Float32Array {
  const out = new Float32Array(gradients.length / channels);
  for (let p = 0, i = 0; p < out.length; p++) {
    let sum = 0;
    for (let k = 0; k < channels; k++, i++) {
      const g = gradients[i]!;
      if (g > 0 || !rectify) sum += g * activations[i]!;
    }
    out[p] = sum;
  }
  return out;
}

/** One-hot (1 at the highest score, the first one on ties) of a score vector. */
export function topOneHot(scores: ArrayLike<number>): Float32Array {
  const out = new Float32Array(scores.length);
  let best = 0;
  for (let i = 1; i < scores.length; i++) if (scores[i]! > scores[best]!) best = i;
  out[best] = 1;
  return out;
}

/**
 * Grad-CAM++'s channel weights from [positions, channels] maps, in the closed form for an
 * exponential of the score: α = g² / (2g² + ΣA·g³) (0 where the denominator is 0), w = Σ α·relu(g).
 */
export function gradCamPlusPlusWeights(
  gradients: ArrayLike<number>,
  activations: ArrayLike<number>,
  channels: number,
): Float32Array {
  const positions = gradients.length / channels;
  const out = new Float32Array(channels);
  for (let k = 0; k < channels; k++) {
    let sumA = 0;
    for (let q = 0; q < positions; q++) sumA += activations[q * channels + k]!;
    let w = 0;
    for (let q = 0; q < positions; q++) {
      const g = gradients[q * channels + k]!;
      if (!(g > 0)) continue;
      const g2 = g * g;
      const denominator = 2 * g2 + sumA * g2 * g;
      if (denominator !== 0) w += (g2 / denominator) * g;
    }
    out[k] = w;
  }
  return out;
}

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
 * Source positions of a half-pixel-centred bilinear resize along one axis of the region, clamped
 * to the region's edges: the same sample positions as `tf.image.resizeBilinear(crop, size, false, true)`.
 */
function axis(start: number, span: number, out: number): { i0: Int32Array; i1: Int32Array; frac: Float32Array } {
  const i0 = new Int32Array(out);
  const i1 = new Int32Array(out);
  const frac = new Float32Array(out);
  const ratio = span / out;
  for (let p = 0; p < out; p++) {
    const f = (p + 0.5) * ratio - 0.5;
    const lo = Math.max(0, Math.floor(f));
    i0[p] = start + lo;
    i1[p] = start + Math.min(span - 1, Math.ceil(f));
    frac[p] = f - lo;
  }
  return { i0, i1, frac };
}

/**
 * Crops, resizes (bilinear, half-pixel centres) and scales a frame in one pass: `pixels` holds
 * `channels` values per pixel (3 or 4; only the first three are read), `width` pixels per row.
 * Returns the network input, [height, width, 3] row-major (in `into` when it has that size).
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
  const ys = axis(y, h, outH);
  const xs = axis(x, w, outW);
  const out = into?.length === outH * outW * 3 ? into : new Float32Array(outH * outW * 3);
  const rowStride = width * channels;
  let o = 0;
  for (let r = 0; r < outH; r++) {
    const top = ys.i0[r]! * rowStride;
    const bottom = ys.i1[r]! * rowStride;
    const fy = ys.frac[r]!;
    for (let c = 0; c < outW; c++) {
      const left = xs.i0[c]! * channels;
      const right = xs.i1[c]! * channels;
      const fx = xs.frac[c]!;
      for (let k = 0; k < 3; k++) {
        const tl = pixels[top + left + k]!;
        const tr = pixels[top + right + k]!;
        const bl = pixels[bottom + left + k]!;
        const br = pixels[bottom + right + k]!;
        const upper = tl + (tr - tl) * fx;
        const lower = bl + (br - bl) * fx;
        out[o++] = (upper + (lower - upper) * fy) * s.scale + s.offset;
      }
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

/** LayerCAM's channel reduction of [positions, channels] maps: Σ_k relu(g) · a per position. */
export function layerCamReduce(
  gradients: ArrayLike<number>,
  activations: ArrayLike<number>,
  channels: number,
): Float32Array {
  const out = new Float32Array(gradients.length / channels);
  for (let p = 0, i = 0; p < out.length; p++) {
    let sum = 0;
    for (let k = 0; k < channels; k++, i++) {
      const g = gradients[i]!;
      if (g > 0) sum += g * activations[i]!;
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

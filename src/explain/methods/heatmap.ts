import type { Heatmap } from './types.js';
import type { Region } from '../runtime/crop.js';

/**
 * A raw class-activation map → what is shown: ReLU, then min–max to [0, 1]; a flat map becomes
 * all zeros. In place (the engine reads raw maps back and normalises them here, on the CPU:
 * 49 or 196 values are cheaper here than the six kernels it takes on the device).
 */
export function normalizeHeatmapInPlace(values: Float32Array): Float32Array {
  let low = Infinity;
  let high = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = Math.max(values[i]!, 0);
    values[i] = v;
    low = Math.min(low, v);
    high = Math.max(high, v);
  }
  const range = high - low;
  for (let i = 0; i < values.length; i++) values[i] = range > 0 ? (values[i]! - low) / range : 0;
  return values;
}

/** Zeroes values below `threshold` (MATLAB's Grad-CAM example uses 0.2). */
export function thresholdHeatmap(heatmap: Heatmap, threshold: number): Heatmap {
  if (!(threshold > 0)) return heatmap;
  return { ...heatmap, data: heatmap.data.map((v) => (v < threshold ? 0 : v)) };
}

/**
 * Exponential smoothing of a stream of heatmaps: `out = weight · previous + (1 − weight) · new`.
 * Steadies a live overlay; restarts whenever the grid size changes (another layer was picked).
 */
export class HeatmapSmoother {
  private previous: Heatmap | undefined;

  smooth(heatmap: Heatmap, weight: number): Heatmap {
    const prev = this.previous;
    let out = heatmap;
    if (weight > 0 && prev && prev.width === heatmap.width && prev.height === heatmap.height) {
      const data = new Float32Array(heatmap.data.length);
      for (let i = 0; i < data.length; i++) data[i] = weight * prev.data[i]! + (1 - weight) * heatmap.data[i]!;
      out = { ...heatmap, data };
    }
    this.previous = out;
    return out;
  }

  reset(): void {
    this.previous = undefined;
  }
}

/** Per-output-line sample positions of a half-pixel-centred bilinear resize. */
function axisSamples(
  gridSize: number,
  start: number,
  span: number,
  outSize: number,
): { i0: Int32Array; i1: Int32Array; f: Float32Array; inside: Uint8Array } {
  const i0 = new Int32Array(outSize);
  const i1 = new Int32Array(outSize);
  const f = new Float32Array(outSize);
  const inside = new Uint8Array(outSize);
  for (let p = 0; p < outSize; p++) {
    inside[p] = p >= start && p < start + span ? 1 : 0;
    const u = Math.min(Math.max(((p + 0.5 - start) / span) * gridSize - 0.5, 0), gridSize - 1);
    const lo = Math.floor(u);
    i0[p] = lo;
    i1[p] = Math.min(lo + 1, gridSize - 1);
    f[p] = u - lo;
  }
  return { i0, i1, f, inside };
}

/**
 * The heatmap resampled onto a width×height image whose `region` it covers, sampling at pixel
 * centres (so a 7×7 grid over 224 px puts cell centres at 16, 48, … px). Pixels outside the
 * region are 0.
 */
export function upsampleHeatmap(heatmap: Heatmap, region: Region, width: number, height: number): Float32Array {
  const xs = axisSamples(heatmap.width, region.x, region.width, width);
  const ys = axisSamples(heatmap.height, region.y, region.height, height);
  const out = new Float32Array(width * height);
  const g = heatmap.data;
  const gw = heatmap.width;
  for (let y = 0; y < height; y++) {
    if (!ys.inside[y]) continue;
    const r0 = ys.i0[y]! * gw;
    const r1 = ys.i1[y]! * gw;
    const fy = ys.f[y]!;
    for (let x = 0; x < width; x++) {
      if (!xs.inside[x]) continue;
      const c0 = xs.i0[x]!;
      const c1 = xs.i1[x]!;
      const fx = xs.f[x]!;
      const top = g[r0 + c0]! + (g[r0 + c1]! - g[r0 + c0]!) * fx;
      const bottom = g[r1 + c0]! + (g[r1 + c1]! - g[r1 + c0]!) * fx;
      out[y * width + x] = top + (bottom - top) * fy;
    }
  }
  return out;
}

/** Where the heatmap peaks, in source pixels: the centre of its largest cell. */
export function heatmapPeak(heatmap: Heatmap, region: Region): { x: number; y: number } {
  let best = 0;
  for (let i = 1; i < heatmap.data.length; i++) if (heatmap.data[i]! > heatmap.data[best]!) best = i;
  const col = best % heatmap.width;
  const row = Math.floor(best / heatmap.width);
  return {
    x: region.x + ((col + 0.5) / heatmap.width) * region.width,
    y: region.y + ((row + 0.5) / heatmap.height) * region.height,
  };
}

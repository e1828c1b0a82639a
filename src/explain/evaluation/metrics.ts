/**
 * Localisation metrics for saliency maps against ground-truth boxes, computed on maps already
 * resampled to the image's pixels. Boxes are [xmin, ymin, xmax, ymax] in 0-based, inclusive pixels.
 */
export type Box = readonly [number, number, number, number];

export function boxUnionMask(width: number, height: number, boxes: readonly Box[]): Uint8Array {
  const mask = new Uint8Array(width * height);
  for (const [x0, y0, x1, y1] of boxes) {
    for (let y = Math.max(0, y0); y <= Math.min(height - 1, y1); y++) {
      mask.fill(1, y * width + Math.max(0, x0), y * width + Math.min(width - 1, x1) + 1);
    }
  }
  return mask;
}

/** Share of the picture the boxes cover: what a uniform map scores on energy-in-box. */
export function maskShare(mask: Uint8Array): number {
  let n = 0;
  for (const m of mask) n += m;
  return n / mask.length;
}

/** Pointing game: does the point (in continuous pixel coordinates) fall inside a box? */
export function pointInBoxes(x: number, y: number, boxes: readonly Box[]): boolean {
  return boxes.some(([x0, y0, x1, y1]) => x >= x0 && x < x1 + 1 && y >= y0 && y < y1 + 1);
}

/** Share of the map's mass inside the boxes (0 for an all-zero map). */
export function energyInMask(values: Float32Array, mask: Uint8Array): number {
  let inside = 0;
  let total = 0;
  for (let i = 0; i < values.length; i++) {
    const v = Math.max(values[i]!, 0);
    total += v;
    if (mask[i]) inside += v;
  }
  return total > 0 ? inside / total : 0;
}

/**
 * CAM's box estimate (Zhou et al. 2016): threshold the map at a fraction of its maximum and take
 * the bounding box of the largest 8-connected region. Undefined for an all-zero map.
 */
export function boxFromMap(values: Float32Array, width: number, height: number, fraction = 0.15): Box | undefined {
  let max = 0;
  for (const v of values) if (v > max) max = v;
  if (!(max > 0)) return undefined;
  const cut = fraction * max;
  const label = new Int32Array(width * height).fill(-1);
  const stack = new Int32Array(width * height);
  let best: Box | undefined;
  let bestArea = 0;
  for (let start = 0; start < values.length; start++) {
    if (label[start] !== -1 || !(values[start]! >= cut)) continue;
    let top = 0;
    stack[top++] = start;
    label[start] = start;
    let area = 0;
    let x0 = width,
      y0 = height,
      x1 = -1,
      y1 = -1;
    while (top > 0) {
      const p = stack[--top]!;
      area++;
      const px = p % width;
      const py = (p - px) / width;
      if (px < x0) x0 = px;
      if (px > x1) x1 = px;
      if (py < y0) y0 = py;
      if (py > y1) y1 = py;
      for (let dy = -1; dy <= 1; dy++) {
        const ny = py + dy;
        if (ny < 0 || ny >= height) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const nx = px + dx;
          if (nx < 0 || nx >= width) continue;
          const q = ny * width + nx;
          if (label[q] === -1 && values[q]! >= cut) {
            label[q] = start;
            stack[top++] = q;
          }
        }
      }
    }
    if (area > bestArea) {
      bestArea = area;
      best = [x0, y0, x1, y1];
    }
  }
  return best;
}

export function iou(a: Box, b: Box): number {
  const iw = Math.min(a[2], b[2]) - Math.max(a[0], b[0]) + 1;
  const ih = Math.min(a[3], b[3]) - Math.max(a[1], b[1]) + 1;
  if (iw <= 0 || ih <= 0) return 0;
  const inter = iw * ih;
  const area = (r: Box): number => (r[2] - r[0] + 1) * (r[3] - r[1] + 1);
  return inter / (area(a) + area(b) - inter);
}

/**
 * The centre prior: ImageNet photos are framed around their object, so a map that is just a
 * centred Gaussian (σ = ¼ of each side) is the baseline every saliency method must beat.
 */
export function centreGaussian(width: number, height: number): Float32Array {
  const out = new Float32Array(width * height);
  const sx = width / 4;
  const sy = height / 4;
  for (let y = 0; y < height; y++) {
    const gy = Math.exp(-(((y + 0.5 - height / 2) / sy) ** 2) / 2);
    for (let x = 0; x < width; x++) out[y * width + x] = gy * Math.exp(-(((x + 0.5 - width / 2) / sx) ** 2) / 2);
  }
  return out;
}

import { COLORMAP_TABLES, type ColormapName } from './colormaps.js';
import type { Heatmap } from '../methods/types.js';
import { thresholdHeatmap, upsampleHeatmap } from '../methods/heatmap.js';
import type { RgbaImage } from '../runtime/input.js';
import type { Region } from '../runtime/crop.js';

interface OverlayOptions {
  colormap?: ColormapName;
  /** Opacity of the heatmap over the picture (default 0.5, as in MATLAB's example). */
  alpha?: number;
  threshold?: number;
  /** How much to darken the parts of the picture the network did not see (default 0.45). */
  dimOutside?: number;
}

/**
 * The picture with the heatmap blended over the region it explains (values interpolated first,
 * then coloured, so colours follow the map rather than being smeared between cells).
 */
export function overlayHeatmap(
  image: RgbaImage,
  heatmap: Heatmap,
  region: Region,
  options: OverlayOptions = {},
): RgbaImage {
  const alpha = options.alpha ?? 0.5;
  const table = COLORMAP_TABLES[options.colormap ?? 'jet'];
  const dim = 1 - (options.dimOutside ?? 0.45);
  const { width, height } = image;
  const values = upsampleHeatmap(thresholdHeatmap(heatmap, options.threshold ?? 0), region, width, height);
  const out = new Uint8ClampedArray(width * height * 4);
  for (let y = 0; y < height; y++) {
    const inRows = y >= region.y && y < region.y + region.height;
    for (let x = 0; x < width; x++) {
      const p = y * width + x;
      const i = p * 4;
      if (inRows && x >= region.x && x < region.x + region.width) {
        const c = Math.round(Math.min(Math.max(values[p]!, 0), 1) * 255) * 3;
        out[i] = (1 - alpha) * image.data[i]! + alpha * table[c]!;
        out[i + 1] = (1 - alpha) * image.data[i + 1]! + alpha * table[c + 1]!;
        out[i + 2] = (1 - alpha) * image.data[i + 2]! + alpha * table[c + 2]!;
      } else {
        out[i] = image.data[i]! * dim;
        out[i + 1] = image.data[i + 1]! * dim;
        out[i + 2] = image.data[i + 2]! * dim;
      }
      out[i + 3] = 255;
    }
  }
  return { width, height, data: out };
}

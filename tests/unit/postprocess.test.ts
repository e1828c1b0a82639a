import { describe, expect, test } from 'vitest';
import { COLORMAP_TABLES, COLORMAPS } from '../../src/explain/render/colormaps.js';
import { heatmapPeak, HeatmapSmoother, thresholdHeatmap, upsampleHeatmap } from '../../src/explain/methods/heatmap.js';
import { overlayHeatmap } from '../../src/explain/render/overlay.js';

const grid = (width: number, height: number, values: number[]) => ({ width, height, data: Float32Array.from(values) });
const rgb = (name: keyof typeof COLORMAP_TABLES, i: number) =>
  Array.from(COLORMAP_TABLES[name].slice(i * 3, i * 3 + 3));

describe('upsampling on pixel centres', () => {
  test('a 2-cell ramp over 4 pixels samples at the centres, with no shift', () => {
    const up = upsampleHeatmap(grid(2, 1, [0, 1]), { x: 0, y: 0, width: 4, height: 1 }, 4, 1);
    expect(Array.from(up)).toEqual([0, 0.25, 0.75, 1]);
  });

  test('a peak in the middle cell of a 7×7 map stays centred on a 224-px picture', () => {
    const values = new Array<number>(49).fill(0);
    values[24] = 1;
    const up = upsampleHeatmap(grid(7, 7, values), { x: 0, y: 0, width: 224, height: 224 }, 224, 224);
    for (let d = 0; d < 40; d++) {
      expect(up[112 * 224 + 112 + d]).toBeCloseTo(up[112 * 224 + 111 - d]!, 6);
      expect(up[(112 + d) * 224 + 112]).toBeCloseTo(up[(111 - d) * 224 + 112]!, 6);
    }
    expect(up[112 * 224 + 112]).toBeGreaterThan(0.95);
    expect(heatmapPeak(grid(7, 7, values), { x: 0, y: 0, width: 224, height: 224 })).toEqual({ x: 112, y: 112 });
  });

  test('only the explained region gets values', () => {
    const up = upsampleHeatmap(grid(1, 1, [1]), { x: 2, y: 1, width: 3, height: 2 }, 6, 4);
    const inside = (i: number) => {
      const x = i % 6;
      const y = Math.floor(i / 6);
      return x >= 2 && x < 5 && y >= 1 && y < 3;
    };
    expect(Array.from(up)).toEqual(Array.from(up, (_, i) => (inside(i) ? 1 : 0)));
  });
});

describe('threshold and smoothing', () => {
  test('values under the threshold are zeroed, others kept', () => {
    expect(Array.from(thresholdHeatmap(grid(4, 1, [0.1, 0.2, 0.5, 1]), 0.2).data)).toEqual([
      0,
      Float32Array.from([0.2])[0],
      0.5,
      1,
    ]);
  });

  test('exponential smoothing mixes in the previous map, and restarts when the grid changes', () => {
    const s = new HeatmapSmoother();
    expect(Array.from(s.smooth(grid(2, 1, [1, 0]), 0.75).data)).toEqual([1, 0]);
    expect(Array.from(s.smooth(grid(2, 1, [0, 1]), 0.75).data)).toEqual([0.75, 0.25]);
    expect(Array.from(s.smooth(grid(1, 1, [0.5]), 0.75).data)).toEqual([0.5]);
    expect(Array.from(s.smooth(grid(1, 1, [1]), 0).data)).toEqual([1]);
  });
});

describe('colormaps', () => {
  test('every map has 256 RGB entries', () => {
    for (const name of COLORMAPS) expect(COLORMAP_TABLES[name]).toHaveLength(768);
  });

  test("jet is MATLAB's jet(256): dark blue, blue, cyan, yellow, red, dark red", () => {
    expect(rgb('jet', 0)).toEqual([0, 0, 131]); // 0.5156
    expect(rgb('jet', 31)).toEqual([0, 0, 255]);
    expect(rgb('jet', 95)).toEqual([0, 255, 255]);
    expect(rgb('jet', 159)).toEqual([255, 255, 0]);
    expect(rgb('jet', 223)).toEqual([255, 0, 0]);
    expect(rgb('jet', 255)).toEqual([128, 0, 0]);
    expect(rgb('jet', 96)).toEqual([4, 255, 251]); // one step on: red starts, blue falls by 1/64
  });

  test("viridis and inferno are matplotlib's, gray is linear", () => {
    expect(rgb('viridis', 0)).toEqual([0x44, 0x01, 0x54]);
    expect(rgb('viridis', 255)).toEqual([0xfd, 0xe7, 0x25]);
    expect(rgb('inferno', 0)).toEqual([0x00, 0x00, 0x04]);
    expect(rgb('inferno', 255)).toEqual([0xfc, 0xff, 0xa4]);
    expect(rgb('gray', 77)).toEqual([77, 77, 77]);
    expect(rgb('turbo', 0)).toEqual([35, 23, 27]); // the polynomial's dark end
    expect(rgb('turbo', 128)[1]).toBeGreaterThan(200); // bright in the middle
    expect(rgb('turbo', 255)[0]).toBeGreaterThan(rgb('turbo', 255)[2]!); // dark red end
  });
});

describe('overlay', () => {
  test('blends the coloured map at alpha over the region, dims what was not explained', () => {
    const image = { width: 2, height: 1, data: Uint8ClampedArray.from([100, 100, 100, 255, 100, 100, 100, 255]) };
    const out = overlayHeatmap(
      image,
      grid(1, 1, [1]),
      { x: 0, y: 0, width: 1, height: 1 },
      { alpha: 0.5, colormap: 'gray', dimOutside: 0.5 },
    );
    expect(Array.from(out.data)).toEqual([178, 178, 178, 255, 50, 50, 50, 255]);
  });
});

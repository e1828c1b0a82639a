import { describe, expect, test } from 'vitest';
import {
  boxFromMap,
  boxUnionMask,
  centreGaussian,
  energyInMask,
  iou,
  maskShare,
  pointInBoxes,
} from '../../src/explain/evaluation/metrics.js';

describe('localisation metrics', () => {
  test('boxes are inclusive pixel ranges', () => {
    const mask = boxUnionMask(4, 3, [
      [1, 0, 2, 1],
      [2, 1, 3, 2],
    ]);
    expect(Array.from(mask)).toEqual([0, 1, 1, 0, 0, 1, 1, 1, 0, 0, 1, 1]);
    expect(maskShare(mask)).toBeCloseTo(7 / 12);
    expect(pointInBoxes(2.99, 1.5, [[1, 0, 2, 1]])).toBe(true);
    expect(pointInBoxes(3, 1.5, [[1, 0, 2, 1]])).toBe(false);
  });

  test("energy in box is the share of the map's mass inside", () => {
    expect(energyInMask(Float32Array.from([1, 3, 0, 0]), Uint8Array.from([0, 1, 1, 0]))).toBeCloseTo(0.75);
    expect(energyInMask(new Float32Array(4), Uint8Array.from([1, 1, 1, 1]))).toBe(0);
  });

  test('the box of a map is that of its largest region above 15% of the maximum', () => {
    const w = 10;
    const map = new Float32Array(w * 6);
    for (const [x, y] of [
      [1, 1],
      [2, 1],
      [1, 2],
      [2, 2],
      [3, 3],
    ])
      map[y * w + x] = 0.5; // 5 pixels, 8-connected
    map[5 * w + 9] = 1; // the maximum, alone
    map[0 * w + 8] = 0.1; // under the 15% cut
    expect(boxFromMap(map, w, 6)).toEqual([1, 1, 3, 3]);
    expect(boxFromMap(new Float32Array(4), 2, 2)).toBeUndefined();
  });

  test('IoU of inclusive boxes', () => {
    expect(iou([0, 0, 9, 9], [0, 0, 9, 9])).toBe(1);
    expect(iou([0, 0, 9, 9], [5, 0, 14, 9])).toBeCloseTo(50 / 150);
    expect(iou([0, 0, 4, 4], [5, 5, 9, 9])).toBe(0);
  });

  test('the centre prior is a centred Gaussian', () => {
    const g = centreGaussian(8, 4);
    expect(g[1 * 8 + 3]).toBeCloseTo(g[2 * 8 + 4]!);
    expect(Math.max(...g)).toBe(g[1 * 8 + 3]);
    expect(g[0]).toBeLessThan(0.2);
  });
});

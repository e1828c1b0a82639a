import type { WhyCamStatus } from '../../src/app/automation.js';

/** Share of the heatmap's mass inside a box given in source pixels (cell centres decide inside). */
export function massInBox(s: WhyCamStatus, box: readonly [number, number, number, number]): number {
  const h = s.heatmap!;
  const r = s.region!;
  let inside = 0;
  let total = 0;
  for (let row = 0; row < h.height; row++) {
    for (let col = 0; col < h.width; col++) {
      const v = h.data[row * h.width + col]!;
      const x = r.x + ((col + 0.5) / h.width) * r.width;
      const y = r.y + ((row + 0.5) / h.height) * r.height;
      total += v;
      if (x >= box[0] && x <= box[2] && y >= box[1] && y <= box[3]) inside += v;
    }
  }
  return total > 0 ? inside / total : 0;
}

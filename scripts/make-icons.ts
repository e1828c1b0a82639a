/**
 * Draws WhyCam's icons (a camera lens with a heatmap inside) into public/icons/.
 * Run once after changing the design (Node 20 cannot run TypeScript directly):
 *   npx tsc -p tsconfig.tools.json --noEmit false --outDir /tmp/icons --rootDir . && node /tmp/icons/scripts/make-icons.js
 */
import fs from 'node:fs';
import path from 'node:path';
import { PNG } from 'pngjs';
import { COLORMAP_TABLES } from '../src/explain/render/colormaps.js';

const OUT = path.resolve('public/icons');

/** `maskable`: full-bleed background, the lens inside the 80% safe zone. */
function icon(size: number, maskable: boolean): Buffer {
  const png = new PNG({ width: size, height: size });
  const jet = COLORMAP_TABLES.jet;
  const c = size / 2;
  const lens = size * (maskable ? 0.3 : 0.4);
  const ring = size * (maskable ? 0.05 : 0.065);
  const corner = maskable ? 0 : size * 0.18;
  const samples = 4;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      let r = 0,
        g = 0,
        b = 0,
        a = 0;
      for (let sy = 0; sy < samples; sy++) {
        for (let sx = 0; sx < samples; sx++) {
          const px = x + (sx + 0.5) / samples;
          const py = y + (sy + 0.5) / samples;
          // Rounded-square background.
          const qx = Math.max(Math.abs(px - c) - (c - corner), 0);
          const qy = Math.max(Math.abs(py - c) - (c - corner), 0);
          if (Math.hypot(qx, qy) > corner && !maskable) continue;
          let col = [11, 14, 20];
          const d = Math.hypot(px - c, py - c);
          if (d < lens) {
            // The heatmap: hot just above-left of centre, cooling outwards.
            const hx = px - (c - lens * 0.18);
            const hy = py - (c - lens * 0.12);
            const v = Math.exp(-(hx * hx + hy * hy) / (2 * (lens * 0.45) ** 2));
            const i = Math.round(v * 255) * 3;
            col = [jet[i]!, jet[i + 1]!, jet[i + 2]!];
          } else if (d < lens + ring) {
            col = [232, 232, 232];
          }
          r += col[0]!;
          g += col[1]!;
          b += col[2]!;
          a += 255;
        }
      }
      const n = samples * samples;
      const o = (y * size + x) * 4;
      png.data[o] = r / Math.max(a / 255, 1);
      png.data[o + 1] = g / Math.max(a / 255, 1);
      png.data[o + 2] = b / Math.max(a / 255, 1);
      png.data[o + 3] = a / n;
    }
  }
  return PNG.sync.write(png);
}

fs.mkdirSync(OUT, { recursive: true });
for (const size of [48, 72, 96, 128, 144, 152, 192, 384, 512])
  fs.writeFileSync(path.join(OUT, `icon-${size}.png`), icon(size, false));
for (const size of [192, 512]) fs.writeFileSync(path.join(OUT, `maskable-${size}.png`), icon(size, true));
fs.writeFileSync(path.join(OUT, 'apple-touch-icon-180.png'), icon(180, true));
console.log(`icons written to ${OUT}`);

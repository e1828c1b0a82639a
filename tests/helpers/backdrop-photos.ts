import fs from 'node:fs';
import { TAUGHT_CLASSES, trainingPhotos } from './teach-photos.js';

// "The shortcut" with real photos: two classes whose pictures show the same mix of animals (dogs,
// birds, insects from imagenet-samples) and differ only in their backdrop: one class's photos on
// a red sheet, the other's on a blue one, as the lesson tells a class to record "mug" and
// "bottle". The sheet is painted as a band round the centre square the network sees, a fifth of its
// side wide, leaving the animal in the middle as it was.

/** The band's width, as a share of the centre square's side. */
export const BAND = 0.2;
export const SHEETS = { red: '#e01010', blue: '#1030e0' } as const;

/** Photos of every taught class in turn, `count` of them after `skip`, as base64 JPEG (for the page to decode). */
export function mixedPhotos(shared: string, count: number, skip = 0): string[] {
  const perClass = Math.ceil((count + skip) / TAUGHT_CLASSES.length);
  const byClass = trainingPhotos(shared, perClass);
  const mixed = Array.from({ length: perClass }, (_, i) => byClass.map((c) => c[i]!)).flat();
  return mixed.slice(skip, skip + count).map((p) => fs.readFileSync(p.file).toString('base64'));
}

/**
 * The page-side part, as source text for `page.evaluate`: `window.onSheet(base64, colour)` decodes
 * a JPEG and paints the band in that colour round its centre square (none for null); resolves with a JPEG Blob.
 */
export const SHEET_SCRIPT = `
window.onSheet = async (base64, colour) => {
  const blob = new Blob([Uint8Array.from(atob(base64), (c) => c.charCodeAt(0))], { type: 'image/jpeg' });
  if (!colour) return blob;
  const bitmap = await createImageBitmap(blob);
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
  const ctx = canvas.getContext('2d');
  ctx.drawImage(bitmap, 0, 0);
  const side = Math.min(bitmap.width, bitmap.height);
  const x0 = (bitmap.width - side) / 2, y0 = (bitmap.height - side) / 2, band = ${BAND} * side;
  ctx.fillStyle = colour;
  ctx.fillRect(0, 0, bitmap.width, y0 + band);
  ctx.fillRect(0, y0 + side - band, bitmap.width, bitmap.height);
  ctx.fillRect(0, 0, x0 + band, bitmap.height);
  ctx.fillRect(x0 + side - band, 0, bitmap.width, bitmap.height);
  bitmap.close();
  return canvas.convertToBlob({ type: 'image/jpeg', quality: 0.92 });
};`;

/** Whether a grid cell's centre lies on the band (the sheet), the grid covering the centre square. */
function onBand(x: number, y: number, width: number, height: number): boolean {
  const u = (x + 0.5) / width;
  const v = (y + 0.5) / height;
  return u < BAND || v < BAND || u > 1 - BAND || v > 1 - BAND;
}

/** The share of a [0, 1] map's mass on the sheet. */
export function massOnSheet(map: { width: number; height: number; data: number[] }): number {
  let inside = 0;
  let total = 0;
  for (let y = 0; y < map.height; y++)
    for (let x = 0; x < map.width; x++) {
      const v = map.data[y * map.width + x]!;
      total += v;
      if (onBand(x, y, map.width, map.height)) inside += v;
    }
  return total > 0 ? inside / total : 0;
}

/** The share of the grid's cells on the sheet: what a flat map would put there. */
export function sheetCells(width: number, height: number): number {
  return massOnSheet({ width, height, data: new Array<number>(width * height).fill(1) });
}

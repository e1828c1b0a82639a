import fs from 'node:fs';
import { TAUGHT_CLASSES, trainingPhotos } from './teach-photos.js';

// "The shortcut" with real photos: two classes whose pictures show the same mix of animals (dogs,
// birds, insects from imagenet-samples) and differ only in a red square stuck on one class's
// photos, as a class would teach "mug" on a red sheet against "bottle" on a blue one. The sticker
// sits in the centre square the network sees, at its top-left, a quarter of its side.

/** Where the sticker goes, as a share of the centre square: x, y, side. */
export const STICKER = { x: 0.06, y: 0.06, side: 0.25 } as const;

/** Photos of every taught class in turn, `count` of them, as base64 JPEG (for the page to decode). */
export function mixedPhotos(shared: string, count: number, skip = 0): string[] {
  const perClass = Math.ceil((count + skip) / TAUGHT_CLASSES.length);
  const byClass = trainingPhotos(shared, perClass);
  const mixed = Array.from({ length: perClass }, (_, i) => byClass.map((c) => c[i]!)).flat();
  return mixed.slice(skip, skip + count).map((p) => fs.readFileSync(p.file).toString('base64'));
}

/**
 * The page-side part, as source text for `page.evaluate`: decodes a base64 JPEG and, when asked,
 * paints the red sticker into its centre square; resolves with a JPEG Blob.
 */
export const STICKER_SCRIPT = `
window.stickered = async (base64, sticker, place) => {
  const blob = new Blob([Uint8Array.from(atob(base64), (c) => c.charCodeAt(0))], { type: 'image/jpeg' });
  if (!sticker) return blob;
  const bitmap = await createImageBitmap(blob);
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
  const ctx = canvas.getContext('2d');
  ctx.drawImage(bitmap, 0, 0);
  const side = Math.min(bitmap.width, bitmap.height);
  const x0 = (bitmap.width - side) / 2, y0 = (bitmap.height - side) / 2;
  ctx.fillStyle = '#e01010';
  ctx.fillRect(x0 + place.x * side, y0 + place.y * side, place.side * side, place.side * side);
  bitmap.close();
  return canvas.convertToBlob({ type: 'image/jpeg', quality: 0.92 });
};`;

/** The share of a [0, 1] map's mass (a centre-square grid) inside the sticker. */
export function massOnSticker(map: { width: number; height: number; data: number[] }): number {
  let inside = 0;
  let total = 0;
  for (let y = 0; y < map.height; y++)
    for (let x = 0; x < map.width; x++) {
      const v = map.data[y * map.width + x]!;
      total += v;
      // The cell's centre, as a share of the square.
      const cx = (x + 0.5) / map.width;
      const cy = (y + 0.5) / map.height;
      if (cx >= STICKER.x && cx < STICKER.x + STICKER.side && cy >= STICKER.y && cy < STICKER.y + STICKER.side)
        inside += v;
    }
  return total > 0 ? inside / total : 0;
}

/** The share of the grid's cells whose centres lie in the sticker (what a flat map would put there). */
export function stickerCells(width: number, height: number): number {
  return massOnSticker({ width, height, data: new Array<number>(width * height).fill(1) });
}

import type { TeachExample } from './teach-types.js';

const THUMB_SIZE = 56;

/** The picture's centre square, as the model sees it, scaled to a thumbnail (by the browser, asynchronously). */
export function thumbnailBitmap(bitmap: ImageBitmap): Promise<ImageBitmap> {
  const side = Math.min(bitmap.width, bitmap.height);
  return createImageBitmap(bitmap, (bitmap.width - side) / 2, (bitmap.height - side) / 2, side, side, {
    resizeWidth: THUMB_SIZE,
    resizeHeight: THUMB_SIZE,
    resizeQuality: 'medium',
  });
}

/** The thumbnail as a small JPEG's blob: URL, encoded off the main thread. */
export async function encodeThumbnail(small: ImageBitmap): Promise<string> {
  const canvas = new OffscreenCanvas(THUMB_SIZE, THUMB_SIZE);
  canvas.getContext('bitmaprenderer')!.transferFromImageBitmap(small); // takes (and closes) the bitmap
  return URL.createObjectURL(await canvas.convertToBlob({ type: 'image/jpeg', quality: 0.7 }));
}

export function revokeThumbs(examples: readonly TeachExample[]): void {
  for (const e of examples) if (e.thumb) URL.revokeObjectURL(e.thumb);
}

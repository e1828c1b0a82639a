import fs from 'node:fs/promises';
import jpeg from 'jpeg-js';
import { describe, expect, test } from 'vitest';
import { decodeImage, encodePng, readImage } from '../../src/node/image-io.js';
import { applyExifOrientation, exifOrientation } from '../../src/node/exif.js';
import { photo } from '../helpers/shared.js';

/** A JPEG with an APP1 EXIF segment holding only an orientation tag. */
function jpegWithOrientation(orientation: number): Uint8Array {
  const pixels = Buffer.alloc(4 * 3 * 4);
  pixels.writeUInt32BE(0xff0000ff, 0); // top-left red
  const plain = jpeg.encode({ width: 4, height: 3, data: pixels }, 100).data;
  const tiff = Buffer.from([
    0x4d,
    0x4d,
    0,
    42,
    0,
    0,
    0,
    8,
    0,
    1,
    0x01,
    0x12,
    0,
    3,
    0,
    0,
    0,
    1,
    0,
    orientation,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
  ]);
  const app1 = Buffer.concat([Buffer.from([0xff, 0xe1, 0, tiff.length + 8]), Buffer.from('Exif\0\0', 'latin1'), tiff]);
  return Buffer.concat([plain.subarray(0, 2), app1, plain.subarray(2)]);
}

describe('image files', () => {
  test('JPEG and PNG decode to RGBA of the right size', async () => {
    const j = await readImage(photo('sherlock_golden_retriever.jpg'));
    expect([j.width, j.height, j.data.length]).toEqual([960, 640, 960 * 640 * 4]);
    const p = await readImage(photo('gradcam_cat_dog.png'));
    expect([p.width, p.height]).toEqual([224, 224]);
    const again = decodeImage(encodePng(p), 'round trip');
    expect(Buffer.from(again.data).equals(Buffer.from(p.data))).toBe(true);
  });

  test('EXIF orientation turns phone photos upright', () => {
    expect(exifOrientation(jpegWithOrientation(6))).toBe(6);
    const upright = decodeImage(jpegWithOrientation(6), 'rotated.jpg');
    expect([upright.width, upright.height]).toEqual([3, 4]);
    // Rotated 90° clockwise, the top-left pixel moves to the top-right.
    expect(upright.data[(0 * 3 + 2) * 4]).toBeGreaterThan(200);
    expect(upright.data[0]).toBeLessThan(60);
    const image = { width: 2, height: 1, data: Uint8Array.from([1, 1, 1, 1, 2, 2, 2, 2]) };
    expect(Array.from(applyExifOrientation(image, 2).data)).toEqual([2, 2, 2, 2, 1, 1, 1, 1]);
    expect(applyExifOrientation(image, 1)).toBe(image);
  });

  test('anything else is refused with a clear message', async () => {
    expect(() => decodeImage(new TextEncoder().encode('hello'), 'notes.jpg')).toThrow(
      /notes\.jpg is not a JPEG or PNG image/,
    );
    const truncated = (await fs.readFile(photo('sherlock_golden_retriever.jpg'))).subarray(0, 2000);
    expect(() => decodeImage(truncated, 'cut.jpg')).toThrow(/cut\.jpg: the JPEG cannot be decoded/);
    await expect(readImage('/nonexistent/x.png')).rejects.toThrow(/cannot be read \(ENOENT\)/);
  });
});

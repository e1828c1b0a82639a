import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import jpeg from 'jpeg-js';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { decodeImage, encodePng, MAX_MEGAPIXELS, readImage } from '../../src/node/image-io.js';
import { headerSize, sniffFormat } from '../../src/node/image-header.js';
import { encodeWebp } from '../helpers/webp.js';
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
    const again = await decodeImage(encodePng(p), 'round trip');
    expect(Buffer.from(again.data).equals(Buffer.from(p.data))).toBe(true);
  });

  test('EXIF orientation turns phone photos upright', async () => {
    expect(exifOrientation(jpegWithOrientation(6))).toBe(6);
    const upright = await decodeImage(jpegWithOrientation(6), 'rotated.jpg');
    expect([upright.width, upright.height]).toEqual([3, 4]);
    // Rotated 90° clockwise, the top-left pixel moves to the top-right.
    expect(upright.data[(0 * 3 + 2) * 4]).toBeGreaterThan(200);
    expect(upright.data[0]).toBeLessThan(60);
    const image = { width: 2, height: 1, data: Uint8Array.from([1, 1, 1, 1, 2, 2, 2, 2]) };
    expect(Array.from(applyExifOrientation(image, 2).data)).toEqual([2, 2, 2, 2, 1, 1, 1, 1]);
    expect(applyExifOrientation(image, 1)).toBe(image);
  });

  test('anything else is refused with a clear message', async () => {
    await expect(decodeImage(new TextEncoder().encode('hello'), 'notes.jpg')).rejects.toThrow(
      /notes\.jpg is not a JPEG, PNG or WebP picture/,
    );
    const truncated = (await fs.readFile(photo('sherlock_golden_retriever.jpg'))).subarray(0, 2000);
    await expect(decodeImage(truncated, 'cut.jpg')).rejects.toThrow(/cut\.jpg: the JPEG cannot be decoded/);
    await expect(readImage('/nonexistent/x.png')).rejects.toThrow(/cannot be read \(ENOENT\)/);
  });
});

/** CRC-32 of PNG chunks (ISO 3309), so that a forged header is otherwise a valid PNG. */
function crc32(bytes: Uint8Array): number {
  let c = ~0;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return ~c >>> 0;
}

/** A real 2×2 PNG whose IHDR then claims width × height (CRC fixed up). */
function pngClaiming(width: number, height: number): Buffer {
  const png = encodePng({ width: 2, height: 2, data: new Uint8Array(16).fill(200) });
  png.writeUInt32BE(width, 16);
  png.writeUInt32BE(height, 20);
  png.writeUInt32BE(crc32(png.subarray(12, 29)), 29);
  return png;
}

const sample = (width: number, height: number) => {
  const data = new Uint8Array(width * height * 4);
  for (let i = 0; i < width * height; i++)
    data.set([(i * 37) % 256, (i * 11) % 256, 255 - ((i * 5) % 256), 255], i * 4);
  return { width, height, data };
};

describe('bad input says exactly what is wrong', () => {
  let tmp: string;
  beforeAll(async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'whycam-image-io-'));
  });
  afterAll(() => fs.rm(tmp, { recursive: true, force: true }));

  test('an empty file is called empty', async () => {
    const empty = path.join(tmp, 'empty.jpg');
    await fs.writeFile(empty, '');
    await expect(readImage(empty)).rejects.toThrow(/empty\.jpg is empty \(0 bytes\)/);
  });

  test('a text file named .png is not a picture: the bytes decide, not the name', async () => {
    const text = path.join(tmp, 'notes.png');
    await fs.writeFile(text, 'shopping: apples, pears\n');
    await expect(readImage(text)).rejects.toThrow(/notes\.png is not a JPEG, PNG or WebP picture/);
    // …and a real PNG named .jpg is read as the PNG it is.
    const misnamed = path.join(tmp, 'really-a-png.jpg');
    await fs.writeFile(misnamed, encodePng(sample(3, 2)));
    expect((await readImage(misnamed)).width).toBe(3);
  });

  test('a PNG claiming 40000×40000 is refused as too large, with its size, before decoding', async () => {
    const forged = pngClaiming(40000, 40000);
    expect(headerSize(forged, 'png')).toEqual({ width: 40000, height: 40000 });
    await expect(decodeImage(forged, 'huge.png')).rejects.toThrow(
      new RegExp(
        `huge\\.png is too large: its PNG header says 40000×40000 pixels \\(1600 megapixels\\); WhyCam decodes up to ${MAX_MEGAPIXELS}`,
      ),
    );
  });

  test('a JPEG whose frame header claims 40000×40000 is refused the same way', async () => {
    const small = Buffer.from(jpeg.encode({ width: 4, height: 3, data: Buffer.alloc(48, 128) }, 90).data);
    expect(headerSize(small, 'jpeg')).toEqual({ width: 4, height: 3 });
    // jpeg-js writes SOF0 (FFC0): length, precision, height, width.
    const sof = small.indexOf(Buffer.from([0xff, 0xc0]));
    small.writeUInt16BE(40000, sof + 5);
    small.writeUInt16BE(40000, sof + 7);
    await expect(decodeImage(small, 'huge.jpg')).rejects.toThrow(
      /huge\.jpg is too large: its JPEG header says 40000×40000/,
    );
  });

  test('WebP, lossless and lossy, is decoded (format and size read from the header)', async () => {
    const image = sample(9, 5);
    const lossless = await encodeWebp(image, { lossless: true });
    expect(sniffFormat(lossless)).toBe('webp');
    expect(headerSize(lossless, 'webp')).toEqual({ width: 9, height: 5 });
    const file = path.join(tmp, 'picture.webp');
    await fs.writeFile(file, lossless);
    const decoded = await readImage(file);
    expect([decoded.width, decoded.height]).toEqual([9, 5]);
    expect(Buffer.from(decoded.data).equals(Buffer.from(image.data))).toBe(true);

    // A real photo's 320×200 crop (the dog's head), lossy.
    const sherlock = await readImage(photo('sherlock_golden_retriever.jpg'));
    const photoPixels = { width: 320, height: 200, data: new Uint8Array(320 * 200 * 4) };
    for (let y = 0; y < 200; y++)
      photoPixels.data.set(
        sherlock.data.subarray(((y + 150) * 960 + 450) * 4, ((y + 150) * 960 + 770) * 4),
        y * 320 * 4,
      );
    const lossy = await encodeWebp(photoPixels, { quality: 90 });
    expect(headerSize(lossy, 'webp')).toEqual({ width: 320, height: 200 });
    const back = await decodeImage(lossy, 'sherlock.webp');
    expect([back.width, back.height]).toEqual([320, 200]);
    let err = 0;
    for (let i = 0; i < back.data.length; i++) err += Math.abs(back.data[i]! - photoPixels.data[i]!);
    expect(err / back.data.length).toBeLessThan(6); // quality 90: a few levels per channel
    await expect(decodeImage(lossy.subarray(0, 40), 'cut.webp')).rejects.toThrow(
      /cut\.webp: the WebP cannot be decoded/,
    );
  });
});

import fs from 'node:fs/promises';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { WhyCamError } from '../explain/errors.js';
import type { RgbaImage } from '../explain/runtime/input.js';
import { applyExifOrientation, exifOrientation } from './exif.js';

/** The largest picture WhyCam decodes; bigger files are refused rather than exhausting memory. */
export const MAX_MEGAPIXELS = 100;
export const MAX_FILE_BYTES = 64 * 1024 * 1024;

export function isJpeg(bytes: Uint8Array): boolean {
  return bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
}

export function isPng(bytes: Uint8Array): boolean {
  return bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47;
}

/** Decodes a JPEG or PNG file's bytes into RGBA, upright according to its EXIF orientation. */
export function decodeImage(bytes: Uint8Array, name: string): RgbaImage {
  if (isJpeg(bytes)) {
    let decoded: { width: number; height: number; data: Uint8Array };
    try {
      decoded = jpeg.decode(bytes, {
        useTArray: true,
        formatAsRGBA: true,
        maxResolutionInMP: MAX_MEGAPIXELS,
        maxMemoryUsageInMB: 1024,
      });
    } catch (e) {
      throw new WhyCamError('bad-image', `${name}: the JPEG cannot be decoded (${(e as Error).message}).`);
    }
    return applyExifOrientation(decoded, exifOrientation(bytes));
  }
  if (isPng(bytes)) {
    try {
      const png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      if (png.width * png.height > MAX_MEGAPIXELS * 1e6) throw new Error(`larger than ${MAX_MEGAPIXELS} megapixels`);
      return {
        width: png.width,
        height: png.height,
        data: new Uint8Array(png.data.buffer, png.data.byteOffset, png.data.byteLength),
      };
    } catch (e) {
      throw new WhyCamError('bad-image', `${name}: the PNG cannot be decoded (${(e as Error).message}).`);
    }
  }
  throw new WhyCamError('bad-image', `${name} is not a JPEG or PNG image.`, 'WhyCam reads .jpg/.jpeg and .png files.');
}

export async function readImage(file: string): Promise<RgbaImage> {
  let bytes: Buffer;
  try {
    const stat = await fs.stat(file);
    if (!stat.isFile()) throw new WhyCamError('bad-image', `${file} is not a file.`);
    if (stat.size > MAX_FILE_BYTES)
      throw new WhyCamError('bad-image', `${file} is larger than ${MAX_FILE_BYTES / 2 ** 20} MiB.`);
    bytes = await fs.readFile(file);
  } catch (e) {
    if (e instanceof WhyCamError) throw e;
    throw new WhyCamError(
      'bad-image',
      `${file} cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}).`,
    );
  }
  return decodeImage(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), file);
}

export function encodePng(image: RgbaImage): Buffer {
  const png = new PNG({ width: image.width, height: image.height });
  png.data = Buffer.from(image.data.buffer, image.data.byteOffset, image.data.byteLength);
  return PNG.sync.write(png);
}

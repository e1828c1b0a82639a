import fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { WhyCamError } from '../explain/errors.js';
import type { RgbaImage } from '../explain/runtime/input.js';
import { applyExifOrientation, exifOrientation } from './exif.js';
import { headerSize, type ImageFormat, sniffFormat } from './image-header.js';

/** The largest picture WhyCam decodes; bigger files are refused rather than exhausting memory. */
export const MAX_MEGAPIXELS = 100;
const MAX_FILE_BYTES = 64 * 1024 * 1024;

const FORMAT_NAMES: Record<ImageFormat, string> = { jpeg: 'JPEG', png: 'PNG', webp: 'WebP' };
const READS = 'WhyCam reads JPEG, PNG and WebP pictures.';

/**
 * Decodes a JPEG, PNG or WebP file's bytes into RGBA (a JPEG upright according to its EXIF
 * orientation). The format is read from the bytes, not the name; the size from the header,
 * before any pixels are decoded.
 */
export async function decodeImage(bytes: Uint8Array, name: string): Promise<RgbaImage> {
  if (bytes.byteLength === 0) throw new WhyCamError('bad-image', `${name} is empty (0 bytes).`, READS);
  const format = sniffFormat(bytes);
  if (!format) throw new WhyCamError('bad-image', `${name} is not a JPEG, PNG or WebP picture.`, READS);
  const kind = FORMAT_NAMES[format];
  const size = headerSize(bytes, format);
  if (size && size.width * size.height > MAX_MEGAPIXELS * 1e6) {
    throw new WhyCamError(
      'bad-image',
      `${name} is too large: its ${kind} header says ${size.width}×${size.height} pixels ` +
        `(${Math.round((size.width * size.height) / 1e6)} megapixels); WhyCam decodes up to ${MAX_MEGAPIXELS}.`,
      'Shrink the picture first.',
    );
  }
  if (size && (size.width === 0 || size.height === 0))
    throw new WhyCamError('bad-image', `${name}: its ${kind} header says ${size.width}×${size.height} pixels.`);
  try {
    if (format === 'jpeg') {
      const decoded = jpeg.decode(bytes, {
        useTArray: true,
        formatAsRGBA: true,
        maxResolutionInMP: MAX_MEGAPIXELS,
        maxMemoryUsageInMB: 1024,
      });
      return applyExifOrientation(decoded, exifOrientation(bytes));
    }
    if (format === 'png') {
      const png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      return {
        width: png.width,
        height: png.height,
        data: new Uint8Array(png.data.buffer, png.data.byteOffset, png.data.byteLength),
      };
    }
    return await decodeWebp(bytes);
  } catch (e) {
    if (e instanceof WhyCamError) throw e;
    throw new WhyCamError('bad-image', `${name}: the ${kind} cannot be decoded (${(e as Error).message}).`);
  }
}

let webpDecoder: Promise<(buffer: ArrayBuffer) => Promise<{ width: number; height: number; data: Uint8ClampedArray }>>;

/** libwebp compiled to WebAssembly (`@jsquash/webp`), its .wasm read from the package on first use. */
async function decodeWebp(bytes: Uint8Array): Promise<RgbaImage> {
  webpDecoder ??= (async () => {
    const { default: decode, init } = await import('@jsquash/webp/decode.js');
    const wasm = createRequire(import.meta.url).resolve('@jsquash/webp/codec/dec/webp_dec.wasm');
    // Handed the bytes, Emscripten compiles them itself and fetches nothing.
    await init({ wasmBinary: await fs.readFile(wasm) } as never);
    return decode as never;
  })();
  const decode = await webpDecoder;
  const copy = new Uint8Array(bytes).buffer; // exactly the file's bytes (a Buffer's .buffer may be a shared pool)
  const image = await decode(copy);
  return {
    width: image.width,
    height: image.height,
    data: new Uint8Array(image.data.buffer, image.data.byteOffset, image.data.byteLength),
  };
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

/**
 * The same picture flipped left to right: new content of the same size, so that a graph captured
 * on one replays on the other (graph-capture checks in tests and bench).
 */
export function flipped(image: RgbaImage): RgbaImage {
  const data = new Uint8Array(image.data.length);
  for (let y = 0; y < image.height; y++) {
    for (let x = 0; x < image.width; x++) {
      const from = (y * image.width + x) * 4;
      data.set(image.data.subarray(from, from + 4), (y * image.width + image.width - 1 - x) * 4);
    }
  }
  return { width: image.width, height: image.height, data };
}

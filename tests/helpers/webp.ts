import fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import encode, { init } from '@jsquash/webp/encode.js';
import { simd } from 'wasm-feature-detect';
import type { RgbaImage } from '../../src/explain/runtime/input.js';

let ready: Promise<unknown> | undefined;

/** Encodes RGBA pixels as a WebP file at test time (libwebp's encoder from the same package as the decoder). */
export async function encodeWebp(
  image: RgbaImage,
  options: { lossless?: boolean; quality?: number } = {},
): Promise<Buffer> {
  ready ??= (async () => {
    // The package picks its SIMD build when the runtime has SIMD; hand it the matching .wasm.
    const file = (await simd()) ? 'webp_enc_simd.wasm' : 'webp_enc.wasm';
    const wasm = createRequire(import.meta.url).resolve(`@jsquash/webp/codec/enc/${file}`);
    await init(await WebAssembly.compile(await fs.readFile(wasm)));
  })();
  await ready;
  const data = new Uint8ClampedArray(image.data.buffer, image.data.byteOffset, image.data.byteLength);
  const out = await encode({ data, width: image.width, height: image.height, colorSpace: 'srgb' } as ImageData, {
    lossless: options.lossless ? 1 : 0,
    quality: options.quality ?? 90,
  });
  return Buffer.from(out);
}

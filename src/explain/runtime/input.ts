import * as tf from '@tensorflow/tfjs-core';
import { WhyCamError } from '../errors.js';
import { sampleFrame, sampleFrameOnCpu } from './kernels/index.js';
import { inputSampling, type Region } from './preprocess.js';

/** Decoded RGBA pixels: an `ImageData`, or what an image decoder in Node returns. */
export interface RgbaImage {
  width: number;
  height: number;
  data: Uint8Array | Uint8ClampedArray;
}

/** Browser pixel sources tfjs reads directly (ImageBitmap, OffscreenCanvas, …), typed structurally so the engine needs no DOM lib. */
export interface BitmapLike {
  width: number;
  height: number;
  close?: () => void;
}

/** What a camera delivers in a worker (a WebCodecs VideoFrame), typed structurally. */
export interface VideoFrameLike {
  displayWidth: number;
  displayHeight: number;
  copyTo(destination: Uint8Array, options: { format: 'RGBA' }): Promise<unknown>;
}

export type ImageSource = tf.Tensor3D | RgbaImage | BitmapLike | VideoFrameLike;

export function isVideoFrameLike(s: ImageSource): s is VideoFrameLike {
  return typeof (s as VideoFrameLike).copyTo === 'function' && 'displayWidth' in s;
}

export function isRgbaImage(s: ImageSource): s is RgbaImage {
  return 'data' in s && (s.data instanceof Uint8Array || s.data instanceof Uint8ClampedArray);
}

export function sourceSize(s: ImageSource): { width: number; height: number } {
  if (s instanceof tf.Tensor) return { width: s.shape[1], height: s.shape[0] };
  if (isVideoFrameLike(s)) return { width: s.displayWidth, height: s.displayHeight };
  return { width: s.width, height: s.height };
}

/**
 * The network's input batch [1, H, W, 3] for the `region` of the picture: cropped, resized
 * (bilinear, half-pixel centres) and scaled to `inputRange`, as `preprocess(toRgbTensor(…))`
 * gives it, but the pixels go to the device as they are and become the input in one kernel.
 * On wasm and cpu, pixels already in memory are resampled in JavaScript instead (one pass over
 * the 224×224 samples, cheaper there than uploading the frame), and uploaded once.
 */
export async function toInputTensor(
  source: ImageSource,
  region: Region,
  inputSize: readonly [number, number],
  inputRange: readonly [number, number],
  scratch: PixelScratch = new PixelScratch(),
): Promise<tf.Tensor4D> {
  const sampling = inputSampling(region, inputSize, inputRange);
  if (source instanceof tf.Tensor) {
    if (source.rank !== 3 || (source.shape[2] !== 3 && source.shape[2] !== 4)) {
      throw new WhyCamError(
        'bad-image',
        `An image tensor must be [height, width, 3 or 4]; got [${source.shape.join(', ')}].`,
      );
    }
    return sampleFrame(source, sampling);
  }
  let pixels: RgbaImage;
  if (isVideoFrameLike(source)) {
    const { displayWidth: width, displayHeight: height } = source;
    const rgba = scratch.rgba(width * height * 4);
    await source.copyTo(rgba, { format: 'RGBA' });
    pixels = { width, height, data: rgba };
  } else if (isRgbaImage(source)) {
    pixels = source;
  } else {
    const rgba = tf.browser.fromPixels(source as unknown as Parameters<typeof tf.browser.fromPixels>[0], 4);
    try {
      return sampleFrame(rgba, sampling);
    } finally {
      rgba.dispose();
    }
  }
  const { width, height, data } = pixels;
  if (data.length !== width * height * 4) {
    throw new WhyCamError(
      'bad-image',
      `The pixel buffer holds ${data.length} bytes; ${width}×${height} RGBA needs ${width * height * 4}.`,
    );
  }
  const backend = tf.getBackend();
  if (backend === 'webgpu') {
    // The RGBA bytes uploaded as they are, four to an int32 word (a view, not a conversion).
    const bytes = data.byteOffset % 4 === 0 ? data : scratch.alignedCopy(data);
    const words = tf.tensor2d(new Int32Array(bytes.buffer, bytes.byteOffset, width * height), [height, width], 'int32');
    try {
      return sampleFrame(words, sampling, true);
    } finally {
      words.dispose();
    }
  }
  if (backend === 'webgl') {
    const bytes = data instanceof Uint8Array ? data : new Uint8Array(data.buffer, data.byteOffset, data.length);
    const rgba = tf.browser.fromPixels({ width, height, data: bytes }, 4);
    try {
      return sampleFrame(rgba, sampling);
    } finally {
      rgba.dispose();
    }
  }
  const [inH, inW] = inputSize;
  return tf.tensor4d(
    sampleFrameOnCpu(data, width, 4, sampling, scratch.rgb(inH * inW * 3)),
    [1, inH, inW, 3],
    'float32',
  );
}

/**
 * The `region` of the pixels as an h×w×3 tensor (values 0..255). Tensor sources are sliced
 * (the caller keeps ownership of the source); the result is always a new tensor to dispose.
 */
export async function toRgbTensor(
  source: ImageSource,
  region: Region,
  scratch: PixelScratch = new PixelScratch(),
): Promise<tf.Tensor3D> {
  if (source instanceof tf.Tensor) {
    if (source.rank !== 3 || (source.shape[2] !== 3 && source.shape[2] !== 4)) {
      throw new WhyCamError(
        'bad-image',
        `An image tensor must be [height, width, 3 or 4]; got [${source.shape.join(', ')}].`,
      );
    }
    return tf.slice(source, [region.y, region.x, 0], [region.height, region.width, 3]);
  }
  if (isVideoFrameLike(source)) {
    // Converting the whole frame and cropping in JS is several times faster in Chromium than
    // asking copyTo for a sub-rectangle (measured 1.8 ms against 11-18 ms for 640×360).
    const { displayWidth: width, displayHeight: height } = source;
    const rgba = scratch.rgba(width * height * 4);
    await source.copyTo(rgba, { format: 'RGBA' });
    return rgbaToRgb({ width, height, data: rgba }, region, scratch);
  }
  if (isRgbaImage(source)) return rgbaToRgb(source, region, scratch);
  const all = tf.browser.fromPixels(source as unknown as Parameters<typeof tf.browser.fromPixels>[0], 3);
  if (region.x === 0 && region.y === 0 && region.width === all.shape[1] && region.height === all.shape[0]) return all;
  try {
    return tf.slice(all, [region.y, region.x, 0], [region.height, region.width, 3]);
  } finally {
    all.dispose();
  }
}

/** Copies the region's RGB values out of an RGBA buffer in one pass (no full-size intermediate tensors). */
function rgbaToRgb(image: RgbaImage, region: Region, scratch: PixelScratch): tf.Tensor3D {
  const { width, height, data } = image;
  if (data.length !== width * height * 4) {
    throw new WhyCamError(
      'bad-image',
      `The pixel buffer holds ${data.length} bytes; ${width}×${height} RGBA needs ${width * height * 4}.`,
    );
  }
  const rgb = scratch.rgb(region.width * region.height * 3);
  let o = 0;
  for (let y = region.y; y < region.y + region.height; y++) {
    let i = (y * width + region.x) * 4;
    for (let x = 0; x < region.width; x++, i += 4) {
      rgb[o++] = data[i]!;
      rgb[o++] = data[i + 1]!;
      rgb[o++] = data[i + 2]!;
    }
  }
  return tf.tensor3d(rgb, [region.height, region.width, 3], 'float32');
}

/**
 * Buffers reused from frame to frame for pixel conversion, so that a camera stream does not
 * allocate (and collect) megabytes per frame. Safe because each tensor made from them is disposed
 * before the next frame is converted (the explainer's own usage).
 */
export class PixelScratch {
  private bytes = new Uint8Array(0);
  private floats = new Float32Array(0);

  rgba(length: number): Uint8Array {
    if (this.bytes.length !== length) this.bytes = new Uint8Array(length);
    return this.bytes;
  }

  rgb(length: number): Float32Array {
    if (this.floats.length !== length) this.floats = new Float32Array(length);
    return this.floats;
  }

  /** The bytes copied to the start of a buffer of their own (so that they can be viewed as int32 words). */
  alignedCopy(data: Uint8Array | Uint8ClampedArray): Uint8Array {
    const bytes = this.rgba(data.length);
    bytes.set(data);
    return bytes;
  }
}

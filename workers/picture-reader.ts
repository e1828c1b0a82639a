import type { BackendName } from '../src/protocol.js';
import type { ImageSource } from '../src/explain/runtime/input.js';
import { BitmapPixels } from './bitmap-pixels.js';
import type { CameraFrame } from './service-types.js';

/**
 * Reads a camera frame or picture into what the engine takes best on the backend in use (the
 * worker's and the browser benchmark's one path). On GPU backends a bitmap uploads straight to a
 * texture (a VideoFrame becomes a bitmap first). On CPU ones a VideoFrame's bytes come from the
 * engine's copyTo (13 ms here against 18 through a canvas), a bitmap's from `BitmapPixels`.
 */
export class PictureReader {
  readonly pixels = new BitmapPixels();

  /** What to hand the engine; `release` it once the engine is done with it. */
  async read(picture: CameraFrame, backend: BackendName | null): Promise<ImageSource> {
    const gpu = backend === 'webgpu' || backend === 'webgl';
    if (isVideoFrame(picture)) return gpu ? await createImageBitmap(picture) : picture;
    if (gpu) return picture;
    return (await this.pixels.read(picture)) ?? picture;
  }

  /** Closes what `read` made for the engine (never the picture itself, which its owner closes). */
  release(input: ImageSource, picture: CameraFrame): void {
    if (input !== picture && typeof input === 'object' && 'close' in input && typeof input.close === 'function')
      (input as { close(): void }).close();
  }
}

/** VideoFrame exists only where WebCodecs does (not in Node, where the tests run). */
function isVideoFrame(picture: unknown): picture is VideoFrame {
  return typeof VideoFrame !== 'undefined' && picture instanceof VideoFrame;
}

import type { RgbaImage } from '../src/explain/runtime/input.js';

/**
 * The RGBA bytes of a camera frame or picture (VideoFrame or ImageBitmap), for the CPU backends
 * (WASM, CPU): the engine then samples the network input from them in one JavaScript pass. They
 * are read once through a canvas that stays in CPU memory (`willReadFrequently`), reused from
 * frame to frame. For an ImageBitmap (Firefox's and Safari's camera frames, photos) this replaces
 * tfjs's `fromPixels`, which widens every byte of the whole frame into an int32 tensor to
 * resample on WASM: Firefox's frame → tensor went from 55 to ~1.5 ms. A VideoFrame is better read
 * with `copyTo` in Chromium (13 ms against 18 drawn here, 640×360, in the worker).
 */
export class BitmapPixels {
  private canvas: OffscreenCanvas | null = null;
  private context: OffscreenCanvasRenderingContext2D | null = null;

  read(picture: ImageBitmap | VideoFrame): RgbaImage | null {
    const width = 'displayWidth' in picture ? picture.displayWidth : picture.width;
    const height = 'displayHeight' in picture ? picture.displayHeight : picture.height;
    if (typeof OffscreenCanvas === 'undefined' || width === 0 || height === 0) return null;
    if (!this.canvas || this.canvas.width !== width || this.canvas.height !== height) {
      this.canvas = new OffscreenCanvas(width, height);
      this.context = this.canvas.getContext('2d', { willReadFrequently: true });
    }
    if (!this.context) return null;
    this.context.drawImage(picture, 0, 0, width, height);
    const { data } = this.context.getImageData(0, 0, width, height);
    return { width, height, data };
  }
}

import type { RgbaImage } from '../src/explain/input.js';

/**
 * The RGBA bytes of a camera frame or picture (VideoFrame or ImageBitmap), for the CPU backends
 * (WASM, CPU): the engine then samples the network input from them in one JavaScript pass. They
 * are read once through a canvas that stays in CPU memory (`willReadFrequently`), reused from
 * frame to frame. Measured in the worker on this machine (640×360 camera): a VideoFrame's
 * `copyTo` RGBA took 13 ms in Chromium, drawing it here ~2 ms; for an ImageBitmap, tfjs's
 * `fromPixels` widens every byte of the whole frame into an int32 tensor to resample on WASM.
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

import type { RgbaImage } from '../src/explain/runtime/input.js';

/**
 * The RGBA bytes of a camera frame or picture (VideoFrame or ImageBitmap), for the CPU backends
 * (WASM, CPU): the engine then samples the network input from them in one JavaScript pass. For an
 * ImageBitmap (Firefox's and Safari's camera frames, photos) this replaces tfjs's `fromPixels`,
 * which widens every byte of the whole frame into an int32 tensor to resample on WASM: Firefox's
 * frame → tensor went from 55 to ~1.5 ms. A VideoFrame is better read with `copyTo` in Chromium
 * (13 ms against 18 drawn here, 640×360, in the worker), which the engine does itself.
 *
 * No whole-frame buffer is allocated per frame: where WebCodecs can convert to RGBA, the picture is
 * copied (`VideoFrame.copyTo`) into one buffer kept from frame to frame, after a one-time check that
 * it gives the same bytes as the canvas; elsewhere it is drawn on a canvas that stays in CPU memory
 * (`willReadFrequently`) and read with `getImageData`, which allocates its result every time.
 * The bytes returned are valid until the next `read`.
 */
export class BitmapPixels {
  private canvas: OffscreenCanvas | null = null;
  private context: OffscreenCanvasRenderingContext2D | null = null;
  private buffer: Uint8ClampedArray<ArrayBuffer> | null = null;
  /** Whether `copyTo` into the kept buffer works here (null: not tried yet). */
  private copies: boolean | null = null;
  /** Whole-frame buffers allocated so far (for the benchmark and the tests). */
  allocations = 0;

  async read(picture: ImageBitmap | VideoFrame): Promise<RgbaImage | null> {
    const { width, height } = sizeOf(picture);
    if (width === 0 || height === 0) return null;
    if (this.copies !== false && typeof VideoFrame !== 'undefined') {
      const data = await this.copy(picture, width, height);
      if (data) {
        if (this.copies === null) this.copies = this.agreesWithCanvas(picture, data, width, height);
        if (this.copies) return { width, height, data };
      } else {
        this.copies = false;
      }
    }
    const data = this.draw(picture, width, height);
    return data ? { width, height, data } : null;
  }

  /** The picture's bytes through WebCodecs into the kept buffer, or null where it cannot convert to RGBA. */
  private async copy(picture: ImageBitmap | VideoFrame, width: number, height: number) {
    let frame: VideoFrame | null = null;
    try {
      frame = picture instanceof VideoFrame ? picture : new VideoFrame(picture, { timestamp: 0 });
      if (frame.visibleRect?.width !== width || frame.visibleRect.height !== height) return null;
      const size = width * height * 4;
      if (this.buffer?.length !== size) {
        this.buffer = new Uint8ClampedArray(size);
        this.allocations++;
      }
      const [plane] = await frame.copyTo(this.buffer, { format: 'RGBA', layout: [{ offset: 0, stride: width * 4 }] });
      return plane?.offset === 0 && plane.stride === width * 4 ? this.buffer : null;
    } catch {
      return null; // no RGBA conversion here (format option unsupported): the canvas reads it
    } finally {
      if (frame && frame !== picture) frame.close();
    }
  }

  /** The first copy is checked against the canvas, pixel for pixel (within rounding), once. */
  private agreesWithCanvas(picture: ImageBitmap | VideoFrame, data: Uint8ClampedArray, width: number, height: number) {
    const drawn = this.draw(picture, width, height);
    if (!drawn) return true;
    for (let i = 0; i < drawn.length; i += 4 * 97) {
      for (let c = 0; c < 3; c++) if (Math.abs(drawn[i + c]! - data[i + c]!) > 2) return false;
    }
    return true;
  }

  private draw(picture: ImageBitmap | VideoFrame, width: number, height: number): Uint8ClampedArray | null {
    if (typeof OffscreenCanvas === 'undefined') return null;
    if (!this.canvas || this.canvas.width !== width || this.canvas.height !== height) {
      this.canvas = new OffscreenCanvas(width, height);
      this.context = this.canvas.getContext('2d', { willReadFrequently: true });
    }
    if (!this.context) return null;
    this.context.drawImage(picture, 0, 0, width, height);
    this.allocations++;
    return this.context.getImageData(0, 0, width, height).data;
  }
}

function sizeOf(picture: ImageBitmap | VideoFrame): { width: number; height: number } {
  return 'displayWidth' in picture
    ? { width: picture.displayWidth, height: picture.displayHeight }
    : { width: picture.width, height: picture.height };
}

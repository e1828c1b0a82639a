import { afterEach, describe, expect, it, vi } from 'vitest';
import { BitmapPixels } from '../../workers/bitmap-pixels.js';

// Reading a picture's pixels for the CPU backends allocates no whole-frame buffer per frame where
// WebCodecs converts to RGBA (one kept buffer), and falls back to the canvas where it cannot.
// WebCodecs and OffscreenCanvas are stubbed: Node has neither.

const W = 8;
const H = 4;
/** The picture's "true" bytes: what both the canvas and copyTo deliver (unless told otherwise). */
const pixel = (i: number): number => (i * 7) % 256;

class FakeBitmap {
  readonly width = W;
  readonly height = H;
  close(): void {}
}

function stub(copy: 'works' | 'throws' | 'differs'): { copies: number; draws: number } {
  const counts = { copies: 0, draws: 0 };
  class VideoFrameStub {
    readonly visibleRect = { width: W, height: H };
    constructor(readonly source: unknown) {}
    async copyTo(buffer: Uint8ClampedArray, options: { format: string; layout: { offset: number; stride: number }[] }) {
      if (copy === 'throws') throw new Error('NotSupportedError: format');
      counts.copies++;
      expect(options.format).toBe('RGBA');
      for (let i = 0; i < buffer.length; i++) buffer[i] = copy === 'differs' ? 255 - pixel(i) : pixel(i);
      return options.layout;
    }
    close(): void {}
  }
  class CanvasStub {
    constructor(
      readonly width: number,
      readonly height: number,
    ) {}
    getContext() {
      return {
        drawImage: () => undefined,
        getImageData: (_x: number, _y: number, w: number, h: number) => {
          counts.draws++;
          return { data: Uint8ClampedArray.from({ length: w * h * 4 }, (_, i) => pixel(i)) };
        },
      };
    }
  }
  vi.stubGlobal('VideoFrame', VideoFrameStub);
  vi.stubGlobal('OffscreenCanvas', CanvasStub);
  return counts;
}

afterEach(() => vi.unstubAllGlobals());

describe('BitmapPixels', () => {
  it('copies every frame into one kept buffer, checked once against the canvas', async () => {
    const counts = stub('works');
    const reader = new BitmapPixels();
    const buffers = new Set<ArrayLike<number>>();
    for (let frame = 0; frame < 10; frame++) {
      const image = (await reader.read(new FakeBitmap() as unknown as ImageBitmap))!;
      expect(image).toMatchObject({ width: W, height: H });
      expect(Array.from(image.data.subarray(0, 8))).toEqual([0, 7, 14, 21, 28, 35, 42, 49]);
      buffers.add(image.data);
    }
    expect(buffers.size).toBe(1);
    expect(counts).toEqual({ copies: 10, draws: 1 }); // the canvas only for the first frame's check
    expect(reader.allocations).toBe(2); // the kept buffer, and that one check
  });

  it('reads through the canvas where copyTo cannot convert to RGBA, or gives other bytes', async () => {
    for (const copy of ['throws', 'differs'] as const) {
      const counts = stub(copy);
      const reader = new BitmapPixels();
      for (let frame = 0; frame < 5; frame++) {
        const image = (await reader.read(new FakeBitmap() as unknown as ImageBitmap))!;
        expect(Array.from(image.data.subarray(0, 4))).toEqual([0, 7, 14, 21]);
      }
      // copyTo is given up after its first failure (or its one mismatch), then never tried again.
      expect(counts.copies).toBe(copy === 'throws' ? 0 : 1);
      expect(counts.draws).toBe(copy === 'throws' ? 5 : 6);
    }
  });
});

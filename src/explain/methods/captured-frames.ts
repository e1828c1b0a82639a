/**
 * The explainer's captured frame graphs on webgpu (see runtime/graph-capture.ts): one per plan,
 * source shape and crop, captured on first use and replayed for the next frames, the least
 * recently used dropped past `MAX_GRAPHS`.
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  CapturedGraph,
  copiesExternalImages,
  externalInputShape,
  type FrameInput,
  isExternalFrame,
  webGpuInternals,
  writeInput,
} from '../runtime/graph-capture.js';
import { type ImageSource, isRgbaImage, isVideoFrameLike, type PixelScratch } from '../runtime/input.js';
import { sampleFrame } from '../runtime/kernels/index.js';
import { inputSampling, type Region } from '../runtime/preprocess.js';
import type { StageTimings } from './types.js';

/** How many captured frame graphs an explainer keeps (one per plan, source size and crop; oldest dropped). */
const MAX_GRAPHS = 8;

/** The frame's device work, from the network input to the packed tensor to read back. */
export type FrameWork = (x: tf.Tensor4D, forwardDone: () => void) => tf.Tensor;

/** A pixel buffer lent for one frame: the explainer's shared one when free, else a new one. */
interface ScratchLender {
  borrow(): { scratch: PixelScratch | null; release: () => void };
}

interface CapturedFrameOptions {
  inputSize: readonly [number, number];
  inputRange: readonly [number, number];
}

export class CapturedFrames {
  /** On by default; off for A/B measurements (`bench:node --capture off`). */
  enabled = true;
  /** Why graph capture was turned off, if it failed (null while it works). */
  error: string | null = null;
  /** Whether VideoFrames and bitmaps are copied on the GPU (graph-capture.ts ExternalFrame); also off once the device refuses one. */
  // Off by default: in Chromium (SwiftShader) a photo copied this way gave maps 0.008 away from the
  // cpu backend's on the same picture (tests/e2e/backends.spec.ts), where the pixels read through a
  // canvas agree within 1e-4. Off until that copy is shown to give the canvas's pixels.
  externalCopy = false;
  private readonly graphs = new Map<string, CapturedGraph>();

  constructor(
    private readonly model: CapturedFrameOptions,
    private readonly scratch: ScratchLender,
  ) {}

  /** The frame through a captured graph (captured now if new); null where capture does not apply. */
  async run(
    image: ImageSource,
    source: { width: number; height: number },
    region: Region,
    planKey: string,
    work: FrameWork,
  ): Promise<{ data: Float32Array; timings: StageTimings } | null> {
    const backend = this.enabled ? webGpuInternals() : null;
    // Not while a profiler times kernels one by one (bench's GPU time): that needs the ordinary path.
    if (!backend || backend.activeTimers != null) return null;
    if (image instanceof tf.Tensor && image.rank !== 3) return null;
    const t0 = performance.now();
    let temporary: tf.Tensor | null = null;
    const lent = this.scratch.borrow();
    try {
      let frame: FrameInput;
      if (image instanceof tf.Tensor) {
        frame = image;
      } else if (isRgbaImage(image)) {
        frame = image.data;
      } else if (this.externalCopy && copiesExternalImages(backend)) {
        // A VideoFrame or bitmap: copied on the GPU into the graph's input, within its replay.
        frame = { external: image, width: source.width, height: source.height };
      } else if (isVideoFrameLike(image)) {
        const length = image.displayWidth * image.displayHeight * 4;
        frame = lent.scratch ? lent.scratch.rgba(length) : new Uint8Array(length);
        await image.copyTo(frame, { format: 'RGBA' });
      } else {
        temporary = tf.browser.fromPixels(image as unknown as Parameters<typeof tf.browser.fromPixels>[0], 4);
        frame = temporary;
      }
      const packed = !(frame instanceof tf.Tensor);
      const external = isExternalFrame(frame);
      const shape =
        frame instanceof tf.Tensor
          ? frame.shape
          : external
            ? externalInputShape(source.width, source.height)
            : [source.height, source.width];
      const dtype = frame instanceof tf.Tensor ? frame.dtype : 'int32';
      const kind = external ? 'external' : packed ? 'rgba' : 'tensor';
      const key = `${planKey}|${kind}:${shape.join('x')}:${dtype}|${region.x},${region.y},${region.width},${region.height}`;
      let graph = this.graphs.get(key);
      if (graph) {
        if (graph.inUse) return null;
        // Most recently used last, so that the first key is the one to drop.
        this.graphs.delete(key);
        this.graphs.set(key, graph);
        if (!this.wrote(graph, frame)) return this.run(image, source, region, planKey, work);
        const t1 = performance.now();
        const { data, encodeMs } = await graph.run();
        return { data, timings: timingsOf(t0, t1, t1 + encodeMs, performance.now()) };
      }
      const input = tf.zeros(shape, dtype);
      let refused = false;
      try {
        refused = !this.wrote(input, frame);
        if (refused) throw new Error('graph capture: the device refused the external picture');
        const sampling = inputSampling(region, this.model.inputSize, this.model.inputRange);
        graph = CapturedGraph.capture(backend, input, (own) =>
          tf.tidy(() => work(sampleFrame(own, sampling, packed), () => {})),
        );
      } catch (e) {
        input.dispose();
        if (refused) return this.run(image, source, region, planKey, work);
        this.enabled = false;
        this.error = (e as Error).message;
        return null;
      }
      this.graphs.set(key, graph);
      if (this.graphs.size > MAX_GRAPHS) {
        const [oldest, dropped] = this.graphs.entries().next().value!;
        dropped.dispose();
        this.graphs.delete(oldest);
      }
      const t1 = performance.now();
      const data = await graph.read();
      return { data, timings: timingsOf(t0, t1, t1, performance.now()) };
    } finally {
      temporary?.dispose();
      lent.release();
    }
  }

  /**
   * Writes the frame into a graph's (or a new graph's) input. An external picture the device
   * refuses (Dawn under Node takes none) turns the external copy off: false, to go round again.
   */
  private wrote(target: CapturedGraph | tf.Tensor, frame: FrameInput): boolean {
    try {
      if (target instanceof CapturedGraph) target.write(frame);
      else writeInput(webGpuInternals()!, target, frame);
      return true;
    } catch (e) {
      if (!isExternalFrame(frame)) throw e;
      this.externalCopy = false;
      return false;
    }
  }

  /** Frees the captured graphs (they are made again when needed). */
  release(): void {
    for (const graph of this.graphs.values()) graph.dispose();
    this.graphs.clear();
  }
}

/** Stage times of a replayed frame: the input written (t0→t1), the dispatches encoded (t1→t2), the wait for the read-back (t2→t3). */
function timingsOf(t0: number, t1: number, t2: number, t3: number): StageTimings {
  return { preprocessMs: t1 - t0, forwardMs: t2 - t1, heatmapMs: 0, readbackMs: t3 - t2, totalMs: t3 - t0 };
}

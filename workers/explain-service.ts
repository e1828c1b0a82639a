import * as tf from '@tensorflow/tfjs-core';
import { findModel } from '../models/registry.js';
import { isWhyCamError } from '../src/explain/errors.js';
import type { Explainer, Explanation } from '../src/explain/explainer.js';
import {
  type BackendName, type ErrorMessage, type ExplainSettings, type FromWorker, type InitMessage, PROTOCOL_VERSION,
  type ResultMessage, type ToWorker, wallClock,
} from '../src/protocol.js';
import { chooseBackend, restartBackend } from './backend-select.js';
import { CaptureClock, LatestFrame } from './latest-frame.js';
import { loadExplainer } from './model-loader.js';

type Post = (message: FromWorker, transfer?: Transferable[]) => void;
type CameraFrame = VideoFrame | ImageBitmap;

/** The still picture being explained (still-image mode, or a frozen camera frame). */
interface HeldImage {
  bitmap: ImageBitmap;
  imageId: number;
  dirty: boolean;
}

/**
 * The worker's state: one model on one backend, the newest camera frame, the settings. Every
 * frame gets one forward pass and the heatmap the settings ask for; results stream back to the page.
 */
export class ExplainService {
  private explainer: Explainer | null = null;
  private backend: BackendName | null = null;
  private init: InitMessage | null = null;
  private settings: ExplainSettings | null = null;
  private readonly latest = new LatestFrame<CameraFrame>();
  private readonly clock = new CaptureClock();
  private reader: ReadableStreamDefaultReader<VideoFrame> | null = null;
  private streamId = 0;
  private held: HeldImage | null = null;
  private mode: 'camera' | 'image' = 'camera';
  private results = 0;
  private openedFrames = 0;
  private closedFrames = 0;
  private lastError = '';
  private running = false;

  constructor(private readonly post: Post) {}

  async handle(message: ToWorker): Promise<void> {
    switch (message.type) {
      case 'init':
        return this.start(message);
      case 'stream':
        return this.readStream(message.readable, message.streamId);
      case 'frame':
        this.openedFrames++;
        this.streamId = message.streamId;
        this.latest.put(message.bitmap, message.captureTime);
        return;
      case 'image':
        this.held?.bitmap.close();
        this.held = { bitmap: message.bitmap, imageId: message.imageId, dirty: true };
        this.mode = 'image';
        this.latest.wake();
        return;
      case 'camera':
        this.mode = 'camera';
        this.held?.bitmap.close();
        this.held = null;
        return;
      case 'settings':
        if (this.settings) Object.assign(this.settings, message.settings);
        this.lastError = '';
        if (this.held) this.held.dirty = true;
        this.latest.wake();
        return;
      case 'model':
        return this.switchModel(message.model);
      case 'stop-stream':
        await this.stopStream();
        return;
      case 'drill':
        return this.drill(message.failure);
    }
  }

  private async drill(failure: 'crash' | 'exit' | 'lose-device'): Promise<void> {
    if (failure === 'crash') setTimeout(() => { throw new Error('failure drill: the worker crashed'); });
    else if (failure === 'exit') self.close();
    else if (this.backend === 'webgpu') (tf.backend() as unknown as { device: { destroy(): void } }).device.destroy();
    else this.fail(new Error(`failure drill: no GPU device to lose on the ${this.backend} backend`), false);
  }

  /** Watches the GPU device: when it is lost, the backend and the model are rebuilt and work goes on. */
  private watchDevice(): void {
    if (this.backend !== 'webgpu') return;
    const device = (tf.backend() as unknown as { device: { lost: Promise<{ reason: string; message: string }> } }).device;
    void device.lost.then((info) => this.recover(`the GPU device was lost (${info.reason || 'unknown'}${info.message ? `: ${info.message}` : ''})`));
  }

  private async recover(reason: string): Promise<void> {
    const init = this.init;
    if (!init) return;
    this.post({ type: 'recovering', reason });
    const old = this.explainer;
    this.explainer = null;
    try {
      old?.dispose();
    } catch {
      // Its tensors lived on the lost device; nothing more to free.
    }
    try {
      const choice = await restartBackend(this.backend!, init.backend);
      this.backend = choice.name;
      await this.loadModel(init.model, [...choice.notes, `restarted after ${reason}`]);
    } catch (e) {
      this.fail(e, true);
    }
  }

  private async start(message: InitMessage): Promise<void> {
    if (message.version !== PROTOCOL_VERSION) {
      this.post({ type: 'error', code: 'version', message: `The page speaks protocol ${message.version}, this worker ${PROTOCOL_VERSION}.`, hint: 'Reload the page.', fatal: true });
      return;
    }
    this.init = message;
    this.settings = { ...message.settings };
    try {
      this.progress('Choosing a backend…');
      const choice = await chooseBackend(message.backend);
      this.backend = choice.name;
      await this.loadModel(message.model, choice.notes);
      setInterval(() => this.post({ type: 'alive' }), 500);
    } catch (e) {
      this.fail(e, true);
      return;
    }
    if (!this.running) void this.run();
  }

  private async switchModel(model: string): Promise<void> {
    if (!this.init || !this.backend) return;
    const previous = this.explainer;
    this.explainer = null;
    try {
      await this.loadModel(model, []);
      previous?.dispose();
    } catch (e) {
      this.explainer = previous;
      this.fail(e, false);
    }
  }

  private async loadModel(model: string, notes: string[]): Promise<void> {
    const t0 = performance.now();
    const explainer = await loadExplainer(model, this.init!.modelBaseUrl, (text) => this.progress(text));
    this.progress(`Compiling ${this.backend} kernels…`);
    const settings = this.settings!;
    // Compile the views the app switches between (CAM, the default LayerCAM view, the current
    // settings), so that the first frames and the CAM toggle are not slowed by compilation.
    const views = [{ method: 'cam' as const }, { method: 'layercam' as const, layer: findModel(model)?.viewLayer }, this.request(explainer, settings)];
    await explainer.warmUp(views.filter((v) => {
      try {
        explainer.resolve(v);
        return true;
      } catch {
        return false;
      }
    }));
    this.explainer = explainer;
    this.init!.model = model;
    this.watchDevice();
    if (this.held) this.held.dirty = true;
    this.post({
      type: 'ready',
      version: PROTOCOL_VERSION,
      backend: this.backend!,
      backendNotes: notes,
      model,
      layers: [...explainer.featureLayers],
      defaultLayer: explainer.defaultLayer,
      camLayer: explainer.camLayer,
      startupMs: performance.now() - t0,
    });
    this.latest.wake();
  }

  private async readStream(readable: ReadableStream<VideoFrame>, streamId: number): Promise<void> {
    await this.stopStream();
    const reader = readable.getReader();
    this.reader = reader;
    this.streamId = streamId;
    this.clock.reset();
    for (;;) {
      let next: ReadableStreamReadResult<VideoFrame>;
      try {
        next = await reader.read();
      } catch {
        break; // the track ended or the stream was cancelled
      }
      if (next.done) {
        if (this.reader === reader) this.post({ type: 'stream-ended', streamId });
        break;
      }
      this.openedFrames++;
      const frame = next.value;
      if (this.reader !== reader) {
        this.close(frame);
        break;
      }
      this.latest.put(frame, this.clock.captureTime(frame.timestamp, wallClock()));
    }
    if (this.reader === reader) this.reader = null;
  }

  private async stopStream(): Promise<void> {
    const reader = this.reader;
    this.reader = null;
    this.latest.clear();
    if (reader) await reader.cancel().catch(() => undefined);
  }

  /** The processing loop: waits for work, does one frame or picture at a time, never queues. */
  private async run(): Promise<void> {
    this.running = true;
    for (;;) {
      await this.latest.next();
      const explainer = this.explainer;
      const settings = this.settings!;
      if (!explainer || settings.paused) {
        this.drop();
        await new Promise((r) => setTimeout(r, 50));
        continue;
      }
      if (this.mode === 'image') {
        this.drop();
        const held = this.held;
        if (held?.dirty) {
          held.dirty = false;
          await this.process(explainer, held.bitmap, null, { kind: 'image', imageId: held.imageId }, 0, wallClock());
        }
        continue;
      }
      const next = this.latest.take();
      if (!next) continue;
      const tookAt = wallClock();
      try {
        await this.process(explainer, next.value, next.captureTime, { kind: 'camera', streamId: this.streamId }, next.skipped, tookAt);
      } finally {
        this.close(next.value);
      }
    }
  }

  /** Closes camera frames that arrive while nothing may be explained (loading, paused, still mode). */
  private drop(): void {
    const stale = this.latest.take();
    if (stale) this.close(stale.value);
  }

  private async process(
    explainer: Explainer, picture: CameraFrame, captureTime: number | null, source: ResultMessage['source'], skipped: number, tookAt: number,
  ): Promise<void> {
    const settings = this.settings!;
    let result: Explanation;
    try {
      // On GPU backends a bitmap uploads straight to a texture; on CPU ones VideoFrame.copyTo is the fastest read.
      const input = picture instanceof VideoFrame && (this.backend === 'webgpu' || this.backend === 'webgl')
        ? await createImageBitmap(picture) : picture;
      try {
        result = await explainer.explain(input, { ...this.request(explainer, settings), topK: 5, crop: settings.crop });
      } finally {
        if (input !== picture) input.close();
      }
    } catch (e) {
      this.fail(e, false);
      return;
    }
    this.results++;
    const { heatmap } = result;
    const message: ResultMessage = {
      type: 'result',
      source,
      frame: this.results,
      captureTime,
      postTime: wallClock(),
      method: result.method,
      reduction: result.reduction,
      layer: result.layer,
      classIndex: settings.classIndex,
      predictions: result.predictions,
      target: { classIndex: result.target.classIndex, label: result.target.label, score: result.target.score },
      heatmap,
      region: result.region,
      sourceSize: result.source,
      timings: { ...result.timings, waitMs: captureTime === null ? 0 : tookAt - captureTime },
      skipped,
      numTensors: tf.memory().numTensors,
      memory: this.memory(),
      openFrames: this.openedFrames - this.closedFrames - (picture instanceof VideoFrame ? 1 : 0),
    };
    this.post(message, [heatmap.data.buffer]);
  }

  private memory(): ResultMessage['memory'] {
    const m = tf.memory() as tf.MemoryInfo & { numBytesInGPU?: number; numBytesInGPUAllocated?: number };
    const wasm = this.backend === 'wasm' ? (tf.backend() as unknown as { wasm?: { HEAPU8?: Uint8Array } }).wasm?.HEAPU8?.byteLength ?? null : null;
    return { tensorBytes: m.numBytes, gpuBytes: m.numBytesInGPUAllocated ?? m.numBytesInGPU ?? null, wasmHeapBytes: wasm };
  }

  /** CAM is defined at one layer only: it ignores the layer setting, and the result names the layer used. */
  private request(explainer: Explainer, s: ExplainSettings) {
    return {
      method: s.method,
      reduction: s.reduction,
      classIndex: s.classIndex,
      layer: s.method === 'cam' ? (explainer.camLayer ?? 'auto') : s.layer,
    };
  }

  private close(frame: CameraFrame): void {
    frame.close();
    this.closedFrames++;
  }

  private progress(text: string): void {
    this.post({ type: 'progress', text });
  }

  private fail(e: unknown, fatal: boolean): void {
    const message: ErrorMessage = isWhyCamError(e)
      ? { type: 'error', code: e.code, message: e.message.split('\n')[0]!, hint: e.hint ?? null, fatal }
      : { type: 'error', code: 'internal', message: (e as Error)?.message ?? String(e), hint: null, fatal };
    const key = `${message.code}:${message.message}`;
    if (!fatal && key === this.lastError) return; // once per cause, not once per frame
    this.lastError = key;
    this.post(message);
  }
}

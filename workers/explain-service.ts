import * as tf from '@tensorflow/tfjs-core';
import { DEFAULT_MODEL_ID, defaultView, findModel } from '../models/registry.js';
import { isWhyCamError } from '../src/explain/errors.js';
import type { Explainer } from '../src/explain/methods/explainer.js';
import type { Explanation } from '../src/explain/methods/types.js';
import type { OpenedModel } from '../src/explain/models/open-model.js';
import {
  type BackendName,
  type DrillMessage,
  type ErrorMessage,
  type ExplainSettings,
  type FrameAckMessage,
  type FrameDropReason,
  type FrameMessage,
  type FromWorker,
  type InitMessage,
  type ModelFailedMessage,
  type PerturbMessage,
  PROTOCOL_VERSION,
  type ReadyMessage,
  type ResultMessage,
  type TeachTrainMessage,
  type ToWorker,
  wallClock,
} from '../src/protocol.js';
import type { BackendChoice } from './backend-select.js';
import { BitmapPixels } from './bitmap-pixels.js';
import { CaptureClock, LatestFrame } from './latest-frame.js';
import { PerturbationJob } from './perturbation-job.js';
import { isEngineExplainer, Scrambler } from './scrambler.js';
import { Teacher } from './teacher.js';

type Post = (message: FromWorker, transfer?: Transferable[]) => void;
type CameraFrame = VideoFrame | ImageBitmap;

/** The part of an explainer the service uses (tests give it a fake). */
export type FrameExplainer = Pick<
  Explainer,
  'explain' | 'explainMany' | 'warmUp' | 'resolve' | 'dispose' | 'featureLayers' | 'lastConvLayer' | 'camLayer'
> & { labels?: { short: readonly string[] } };

/** What the service needs from its surroundings: the worker passes the real ones, tests fakes. */
export interface ServiceRuntime {
  chooseBackend(forced: BackendName | null): Promise<BackendChoice>;
  restartBackend(name: BackendName, forced: BackendName | null): Promise<BackendChoice>;
  fetchExplainer(id: string, baseUrl: string, onProgress: (text: string) => void): Promise<FrameExplainer>;
  /** A Teachable Machine export or a taught model from files (absent where the service is tested without files). */
  openFiles?(files: readonly File[], baseUrl: string, onProgress: (text: string) => void): Promise<OpenedModel>;
}

/** Where the model in use came from: a registered id, or files (kept, to reopen it after a lost GPU device). */
type ModelOrigin =
  { kind: 'registered' } | { kind: 'files'; files: File[]; opened: Pick<OpenedModel, 'kind' | 'name' | 'methodNotes'> };

/** What became of a camera frame; the page hears it for the frames it sent (`frame-ack`). */
type FrameOutcome = DistributiveOmit<FrameAckMessage, 'type' | 'frameId' | 'streamId'>;
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** A camera frame waiting for the processing loop. */
interface CameraInput {
  picture: CameraFrame;
  captureTime: number;
  streamId: number;
  /** The page's id for a frame it sent; null for frames read from a track's stream, which are not acknowledged. */
  frameId: number | null;
}

/** The still picture being explained (still-image mode, or a frozen camera frame). */
interface HeldImage {
  bitmap: ImageBitmap;
  imageId: number;
  dirty: boolean;
}

/**
 * The worker's state: one model on one backend, the newest camera frame, the settings. Every
 * frame gets one forward pass and the heatmap the settings ask for; results stream back to the page.
 * Every frame the page sends is answered with exactly one `frame-ack`, and every frame is closed.
 */
export class ExplainService {
  private explainer: FrameExplainer | null = null;
  private backend: BackendName | null = null;
  /** Threads the WASM backend computes with (1 when single-threaded, or on another backend). */
  private wasmThreads = 1;
  private init: InitMessage | null = null;
  private settings: ExplainSettings | null = null;
  /** The newest camera frame not yet taken by the processing loop. */
  private readonly bitmapPixels = new BitmapPixels();
  private readonly pending = new LatestFrame<CameraInput>((superseded) =>
    this.release(superseded, { outcome: 'dropped', reason: 'superseded' }),
  );
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
  private heartbeat: ReturnType<typeof setInterval> | null = null;
  private origin: ModelOrigin = { kind: 'registered' };
  private teacher: Teacher | null = null;
  private training = false;
  /** The live sanity check: the scrambled copy of the explainer, when the `scramble` setting is on. */
  private readonly scrambler = new Scrambler<FrameExplainer>();
  /** The occlusion or LIME run on the still picture, while it runs. */
  private job: PerturbationJob | null = null;

  constructor(
    private readonly post: Post,
    private readonly runtime: ServiceRuntime,
  ) {}

  async handle(message: ToWorker): Promise<void> {
    switch (message.type) {
      case 'init':
        return this.start(message);
      case 'stream':
        return this.readStream(message.readable, message.streamId);
      case 'frame':
        this.acceptSentFrame(message);
        return;
      case 'image':
        this.job?.cancel();
        this.held?.bitmap.close();
        this.held = { bitmap: message.bitmap, imageId: message.imageId, dirty: true };
        this.mode = 'image';
        this.dropPending('not-current');
        this.pending.wake();
        return;
      case 'camera':
        this.job?.cancel();
        this.mode = 'camera';
        this.held?.bitmap.close();
        this.held = null;
        return;
      case 'settings':
        if (this.settings) Object.assign(this.settings, message.settings);
        this.lastError = '';
        if (message.settings.scramble !== undefined) await this.rescramble();
        if (this.held) this.held.dirty = true;
        if (this.settings?.paused) this.dropPending('paused');
        this.pending.wake();
        return;
      case 'model':
        return this.switchModel(message.model);
      case 'stop-stream':
        await this.stopStream();
        return;
      case 'drill':
        return this.drill(message.failure);
      case 'open-model':
        return this.openFiles(message.model, message.files, 'open');
      case 'teach-example':
        return this.teachExample(message.exampleId, message.bitmap);
      case 'teach-forget':
        this.teacher?.forget(message.exampleIds);
        return;
      case 'teach-train':
        return this.teach(message);
      case 'perturb':
        this.perturb(message);
        return;
      case 'perturb-cancel':
        if (this.job?.id === message.jobId) this.job.cancel();
        return;
    }
  }

  /** The occlusion or LIME job running now, if any (tests wait for it). */
  get perturbation(): PerturbationJob | null {
    return this.job;
  }

  /** Makes the scrambled copy match the `scramble` setting; a model that cannot be scrambled is reported. */
  private async rescramble(): Promise<void> {
    try {
      await this.scrambler.update(this.explainer, this.settings?.scramble ?? 0);
    } catch (e) {
      this.fail(e, false);
    }
  }

  /**
   * Starts occlusion or LIME on the still picture (returns at once: the job reports its progress and
   * its end, and a cancel message reaches it while it runs). A job already running is cancelled.
   */
  private perturb(message: PerturbMessage): void {
    this.job?.cancel();
    const held = this.held;
    const real = this.explainer;
    const refuse = (text: string, hint: string | null): void =>
      this.post({
        type: 'perturbation',
        jobId: message.jobId,
        method: message.method,
        state: 'failed',
        message: text,
        hint,
      });
    if (this.mode !== 'image' || !held)
      return refuse(
        'Occlusion and LIME explain still pictures only.',
        'Open a photo or freeze the camera frame first.',
      );
    if (!real) return refuse('No model is ready yet.', 'Try again once the model has loaded.');
    const { explainer, scrambled } = this.scrambler.active(real);
    if (!isEngineExplainer(explainer))
      return refuse('Occlusion and LIME need the model itself, which this worker does not have.', null);
    const job = new PerturbationJob(
      message,
      {
        explainer,
        picture: held.bitmap,
        imageId: held.imageId,
        crop: this.settings!.crop,
        topK: Math.min(5, explainer.labels.size),
        scrambled,
        batchSize: this.backend === 'webgpu' || this.backend === 'webgl' ? 16 : 4,
      },
      (m, transfer) => this.post(m, transfer),
    );
    this.job = job;
    void this.scrambler
      .using(() => job.finished)
      .then(() => {
        if (this.job === job) this.job = null;
      });
  }

  /** Set by the 'fail-frame' drill: the next picture's explanation throws. */
  private failNextFrame = false;

  /** Stops the heartbeat (a worker that is closed needs no other clean-up; tests do). */
  dispose(): void {
    if (this.heartbeat !== null) clearInterval(this.heartbeat);
    this.heartbeat = null;
    this.job?.cancel();
    this.scrambler.clear();
  }

  private async drill(failure: DrillMessage['failure']): Promise<void> {
    if (failure === 'fail-frame') this.failNextFrame = true;
    else if (failure === 'crash')
      setTimeout(() => {
        throw new Error('failure drill: the worker crashed');
      });
    else if (failure === 'exit') self.close();
    else if (this.backend === 'webgpu') (tf.backend() as unknown as { device: { destroy(): void } }).device.destroy();
    else this.fail(new Error(`failure drill: no GPU device to lose on the ${this.backend} backend`), false);
  }

  /** Watches the GPU device: when it is lost, the backend and the model are rebuilt and work goes on. */
  private watchDevice(): void {
    if (this.backend !== 'webgpu') return;
    const device = (tf.backend() as unknown as { device: { lost: Promise<{ reason: string; message: string }> } })
      .device;
    void device.lost.then((info) =>
      this.recover(`the GPU device was lost (${info.reason || 'unknown'}${info.message ? `: ${info.message}` : ''})`),
    );
  }

  private async recover(reason: string): Promise<void> {
    const init = this.init;
    if (!init) return;
    this.post({ type: 'recovering', reason });
    const old = this.explainer;
    this.explainer = null;
    this.dropPending('no-model');
    this.job?.cancel();
    this.scrambler.clear();
    try {
      old?.dispose();
    } catch {
      // Its tensors lived on the lost device; nothing more to free.
    }
    try {
      const choice = await this.runtime.restartBackend(this.backend!, init.backend);
      this.backend = choice.name;
      this.wasmThreads = choice.wasmThreads ?? 1;
      const notes = [...choice.notes, `restarted after ${reason}`];
      const origin = this.origin;
      if (origin.kind === 'files') {
        // The teaching session's base lived on the lost device too.
        this.teacher?.forget('all');
        const opened = await this.runtime.openFiles!(origin.files, init.modelBaseUrl, (text) => this.progress(text));
        await this.install(opened.explainer, init.model, notes, origin);
      } else {
        await this.loadModel(init.model, notes);
      }
    } catch (e) {
      this.fail(e, true);
    }
  }

  private async start(message: InitMessage): Promise<void> {
    if (message.version !== PROTOCOL_VERSION) {
      this.post({
        type: 'error',
        code: 'version',
        message: `The page speaks protocol ${message.version}, this worker ${PROTOCOL_VERSION}.`,
        hint: 'Reload the page.',
        fatal: true,
      });
      return;
    }
    this.init = message;
    this.settings = { ...message.settings };
    try {
      this.progress('Choosing a backend…');
      const choice = await this.runtime.chooseBackend(message.backend);
      this.backend = choice.name;
      this.wasmThreads = choice.wasmThreads ?? 1;
      await this.loadModel(message.model, choice.notes);
      this.heartbeat ??= setInterval(() => this.post({ type: 'alive' }), 500);
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
    this.dropPending('no-model');
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
    const explainer = await this.runtime.fetchExplainer(model, this.init!.modelBaseUrl, (text) => this.progress(text));
    await this.install(explainer, model, notes, { kind: 'registered' }, t0);
  }

  /**
   * Opens a model from files and makes it the one in use; on failure the previous model stays and
   * the page hears why (`model-failed`, naming the missing file or the unsupported layer class).
   */
  private async openFiles(model: string, files: File[], during: ModelFailedMessage['during']): Promise<void> {
    if (!this.init || !this.backend || !this.runtime.openFiles) return;
    const t0 = performance.now();
    let opened: OpenedModel;
    try {
      this.progress(`Opening ${files.map((f) => f.name).join(', ')}…`);
      opened = await this.runtime.openFiles(files, this.init.modelBaseUrl, (text) => this.progress(text));
    } catch (e) {
      this.modelFailed(model, during, e);
      return;
    }
    const previous = this.explainer;
    this.explainer = null;
    this.dropPending('no-model');
    try {
      await this.install(opened.explainer, model, [], { kind: 'files', files, opened }, t0);
      previous?.dispose();
    } catch (e) {
      opened.explainer.dispose();
      this.explainer = previous;
      this.modelFailed(model, during, e);
    }
  }

  private modelFailed(model: string, during: ModelFailedMessage['during'], e: unknown): void {
    const error = this.describe(e, false);
    this.post({
      type: 'model-failed',
      model,
      during,
      code: error.code === 'version' ? 'internal' : error.code,
      message: error.message,
      hint: error.hint,
    });
  }

  private async teachExample(exampleId: number, bitmap: ImageBitmap): Promise<void> {
    this.teacher ??= new Teacher(async () => {
      // The model in use if it is a registered one with a linear head after pooling, else the default.
      const current = this.init?.model;
      const id = this.origin.kind === 'registered' && current && findModel(current) ? current : DEFAULT_MODEL_ID;
      this.post({ type: 'teach-progress', stage: 'base', epoch: 0, epochs: 0, loss: NaN });
      const explainer = (await this.runtime.fetchExplainer(id, this.init!.modelBaseUrl, () => undefined)) as Explainer;
      return { id, explainer };
    });
    try {
      await this.teacher.add(exampleId, bitmap);
      this.post({ type: 'teach-example', exampleId, ok: true, message: null });
    } catch (e) {
      this.post({ type: 'teach-example', exampleId, ok: false, message: this.describe(e, false).message });
    }
  }

  /** Fits the head on the examples (frames keep being explained meanwhile), then uses the taught model. */
  private async teach(message: TeachTrainMessage): Promise<void> {
    if (this.training)
      return this.modelFailed(
        message.model,
        'teach',
        new Error('A model is being taught already; wait for it to finish.'),
      );
    if (!this.teacher)
      return this.modelFailed(message.model, 'teach', new Error('There are no examples to teach with.'));
    this.training = true;
    try {
      const taught = await this.teacher.train(message.name, message.classes, (p) => {
        this.post({ type: 'teach-progress', stage: 'training', epoch: p.epoch, epochs: p.epochs, loss: p.loss });
      });
      const { head, zip } = taught;
      this.post({ type: 'teach-progress', stage: 'loading', epoch: head.epochs, epochs: head.epochs, loss: NaN });
      const file = new File([zip as Uint8Array<ArrayBuffer>], `${message.name}.zip`, { type: 'application/zip' });
      const copy = zip.slice();
      this.post(
        {
          type: 'taught',
          model: message.model,
          name: message.name,
          labels: head.labels,
          accuracy: head.accuracy,
          classes: head.classes,
          trainMs: head.trainMs,
          zip: copy,
        },
        [copy.buffer],
      );
      await this.openFiles(message.model, [file], 'teach');
    } catch (e) {
      this.modelFailed(message.model, 'teach', e);
    } finally {
      this.training = false;
    }
  }

  /** Makes a loaded explainer the one in use: compiles its kernels, then tells the page it is ready. */
  private async install(
    explainer: FrameExplainer,
    model: string,
    notes: string[],
    origin: ModelOrigin,
    t0 = performance.now(),
  ): Promise<void> {
    this.progress(`Compiling ${this.backend} kernels…`);
    const settings = this.settings!;
    // Compile the views the app switches between (CAM, the default LayerCAM view, the current
    // settings), so that the first frames and the CAM toggle are not slowed by compilation.
    const views = [{ method: 'cam' as const }, defaultView(model), this.request(explainer, settings)];
    await explainer.warmUp(
      views.filter((v) => {
        try {
          explainer.resolve(v);
          return true;
        } catch {
          return false;
        }
      }),
    );
    // The previous model's scrambled copy and its running job go with it.
    this.job?.cancel();
    this.explainer = explainer;
    await this.rescramble();
    this.init!.model = model;
    this.origin = origin;
    this.watchDevice();
    if (this.held) this.held.dirty = true;
    this.post({
      type: 'ready',
      version: PROTOCOL_VERSION,
      backend: this.backend!,
      backendNotes: notes,
      model,
      layers: [...explainer.featureLayers],
      lastConvLayer: explainer.lastConvLayer,
      camLayer: explainer.camLayer,
      ...this.modelFacts(explainer, model, origin),
      startupMs: performance.now() - t0,
      wasmThreads: this.wasmThreads,
      scrambleBlocks: Scrambler.blocks(explainer),
    });
    this.pending.wake();
  }

  private modelFacts(
    explainer: FrameExplainer,
    model: string,
    origin: ModelOrigin,
  ): Pick<ReadyMessage, 'labels' | 'modelName' | 'origin' | 'methodNotes'> {
    const labels = [...(explainer.labels?.short ?? [])];
    if (origin.kind === 'registered')
      return { labels, modelName: findModel(model)?.displayName ?? model, origin: 'registered', methodNotes: null };
    return {
      labels,
      modelName: origin.opened.name,
      origin: origin.opened.kind,
      methodNotes: origin.opened.methodNotes,
    };
  }

  /** A frame the page sent (no track processor): queued if it can be explained now, else acknowledged as dropped. */
  private acceptSentFrame(message: FrameMessage): void {
    this.openedFrames++;
    if (message.streamId > this.streamId) this.streamId = message.streamId;
    this.offer({
      picture: message.bitmap,
      captureTime: message.captureTime,
      streamId: message.streamId,
      frameId: message.frameId,
    });
  }

  private offer(input: CameraInput): void {
    const refusal = this.refusal(input.streamId);
    if (refusal) this.release(input, { outcome: 'dropped', reason: refusal });
    else this.pending.put(input);
  }

  /** Why a camera frame of this stream cannot be explained now, or null if it can. */
  private refusal(streamId: number): FrameDropReason | null {
    if (this.mode === 'image' || streamId !== this.streamId) return 'not-current';
    if (!this.explainer) return 'no-model';
    if (this.settings?.paused) return 'paused';
    return null;
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
      const input: CameraInput = {
        picture: frame,
        captureTime: this.clock.captureTime(frame.timestamp, wallClock()),
        streamId,
        frameId: null,
      };
      if (this.reader !== reader) {
        this.release(input, { outcome: 'dropped', reason: 'not-current' });
        break;
      }
      this.offer(input);
    }
    if (this.reader === reader) this.reader = null;
  }

  private async stopStream(): Promise<void> {
    const reader = this.reader;
    this.reader = null;
    this.dropPending('not-current');
    if (reader) await reader.cancel().catch(() => undefined);
  }

  /** The processing loop: waits for work, does one frame or picture at a time, never queues. */
  private async run(): Promise<void> {
    this.running = true;
    for (;;) {
      await this.pending.next();
      // Settings, mode or model may have changed since the waiting frame was accepted.
      const refusal = this.refusal(this.streamId);
      if (refusal) this.dropPending(refusal);
      const explainer = this.explainer;
      const settings = this.settings!;
      if (!explainer || settings.paused) continue;
      if (this.mode === 'image') {
        const held = this.held;
        if (held?.dirty) {
          held.dirty = false;
          await this.process(explainer, held.bitmap, null, { kind: 'image', imageId: held.imageId }, 0, wallClock());
        }
        continue;
      }
      const next = this.pending.take();
      if (!next) continue;
      const { frame, skipped } = next;
      if (frame.streamId !== this.streamId) {
        this.release(frame, { outcome: 'dropped', reason: 'not-current' });
        continue;
      }
      const tookAt = wallClock();
      let outcome: FrameOutcome = { outcome: 'failed', message: 'the worker stopped while explaining this frame' };
      try {
        outcome = await this.process(
          explainer,
          frame.picture,
          frame.captureTime,
          { kind: 'camera', streamId: frame.streamId },
          skipped,
          tookAt,
        );
      } finally {
        this.release(frame, outcome);
      }
    }
  }

  /** Closes the waiting camera frame, if any, unexplained. */
  private dropPending(reason: FrameDropReason): void {
    const stale = this.pending.take();
    if (stale) this.release(stale.frame, { outcome: 'dropped', reason });
  }

  /** Explains one picture (with the scrambled copy while the sanity check is on) and posts the result. */
  private async process(
    real: FrameExplainer,
    picture: CameraFrame,
    captureTime: number | null,
    source: ResultMessage['source'],
    skipped: number,
    tookAt: number,
  ): Promise<FrameOutcome> {
    const { explainer, scrambled } = this.scrambler.active(real);
    return this.scrambler.using(() =>
      this.explainWith(explainer, scrambled, picture, captureTime, source, skipped, tookAt),
    );
  }

  /** Explains one picture and posts the result; a failure is reported (once per cause) and returned, not thrown. */
  private async explainWith(
    explainer: FrameExplainer,
    scrambled: number,
    picture: CameraFrame,
    captureTime: number | null,
    source: ResultMessage['source'],
    skipped: number,
    tookAt: number,
  ): Promise<FrameOutcome> {
    const settings = this.settings!;
    let result: Explanation;
    let second: Explanation | undefined;
    // Reading the picture's pixels before the engine gets them belongs to "frame → tensor".
    let readMs: number | undefined;
    try {
      // On GPU backends a bitmap uploads straight to a texture. On CPU ones a VideoFrame's bytes come
      // from copyTo (13 ms here against 18 through a canvas), a bitmap's through a canvas
      // (bitmap-pixels.ts; tfjs's fromPixels widened the whole frame to int32 first).
      const gpu = this.backend === 'webgpu' || this.backend === 'webgl';
      const readStart = performance.now();
      const input = isVideoFrame(picture)
        ? gpu
          ? await createImageBitmap(picture)
          : picture
        : gpu
          ? picture
          : (this.bitmapPixels.read(picture) ?? picture);
      readMs = performance.now() - readStart;
      try {
        if (this.failNextFrame) {
          this.failNextFrame = false;
          throw new Error('failure drill: this frame could not be explained');
        }
        const requests = [
          this.request(explainer, settings),
          ...(settings.compare ? [this.request(explainer, { ...settings, ...settings.compare })] : []),
        ];
        // Side by side: both views from one forward pass and one read-back.
        [result, second] = (await explainer.explainMany(input, requests, {
          topK: Math.min(5, explainer.labels?.short.length ?? 5),
          crop: settings.crop,
        })) as [Explanation, Explanation?];
      } finally {
        if (input !== picture && 'close' in input) input.close();
      }
    } catch (e) {
      const message = this.fail(e, false);
      return { outcome: 'failed', message: message.message };
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
      target: prediction(result.target),
      contrast: result.contrast ? prediction(result.contrast) : null,
      heatmap,
      compared: second
        ? {
            method: second.method,
            reduction: second.reduction,
            layer: second.layer,
            classIndex: settings.compare?.classIndex ?? settings.classIndex,
            target: prediction(second.target),
            contrast: second.contrast ? prediction(second.contrast) : null,
            heatmap: second.heatmap,
          }
        : null,
      scrambled,
      region: result.region,
      sourceSize: result.source,
      timings: {
        ...result.timings,
        preprocessMs: result.timings.preprocessMs + (readMs ?? 0),
        waitMs: captureTime === null ? 0 : tookAt - captureTime,
      },
      skipped,
      numTensors: tf.memory().numTensors,
      memory: this.memory(),
      // Besides the camera frame being explained, which is closed right after this message.
      openFrames: this.openedFrames - this.closedFrames - (source.kind === 'camera' ? 1 : 0),
    };
    this.post(message, [heatmap.data.buffer, ...(second ? [second.heatmap.data.buffer] : [])]);
    return { outcome: 'done', result: this.results };
  }

  private memory(): ResultMessage['memory'] {
    const m = tf.memory() as tf.MemoryInfo & { numBytesInGPU?: number; numBytesInGPUAllocated?: number };
    const wasm =
      this.backend === 'wasm'
        ? ((tf.backend() as unknown as { wasm?: { HEAPU8?: Uint8Array } }).wasm?.HEAPU8?.byteLength ?? null)
        : null;
    return {
      tensorBytes: m.numBytes,
      gpuBytes: m.numBytesInGPUAllocated ?? m.numBytesInGPU ?? null,
      wasmHeapBytes: wasm,
    };
  }

  /** CAM is defined at one layer only: it ignores the layer setting, and the result names the layer used. */
  private request(explainer: FrameExplainer, s: ExplainSettings) {
    return {
      method: s.method,
      reduction: s.reduction,
      classIndex: s.classIndex,
      contrastClass: s.contrastClass ?? null,
      layer: s.method === 'cam' ? (explainer.camLayer ?? 'auto') : s.layer,
    };
  }

  /** Closes a camera frame and, for a frame the page sent, tells the page what became of it. */
  private release(input: CameraInput, outcome: FrameOutcome): void {
    input.picture.close();
    this.closedFrames++;
    if (input.frameId !== null)
      this.post({ type: 'frame-ack', frameId: input.frameId, streamId: input.streamId, ...outcome });
  }

  private progress(text: string): void {
    this.post({ type: 'progress', text });
  }

  /** Reports an error to the page (a repeated non-fatal one only once) and returns it. */
  private fail(e: unknown, fatal: boolean): ErrorMessage {
    const message = this.describe(e, fatal);
    const key = `${message.code}:${message.message}`;
    if (fatal || key !== this.lastError) this.post(message); // once per cause, not once per frame
    this.lastError = key;
    return message;
  }

  private describe(e: unknown, fatal: boolean): ErrorMessage {
    return isWhyCamError(e)
      ? { type: 'error', code: e.code, message: e.message.split('\n')[0]!, hint: e.hint ?? null, fatal }
      : { type: 'error', code: 'internal', message: (e as Error)?.message ?? String(e), hint: null, fatal };
  }
}

function prediction(p: { classIndex: number; label: string; score: number }): ResultMessage['target'] {
  return { classIndex: p.classIndex, label: p.label, score: p.score };
}

/** VideoFrame exists only where WebCodecs does (not in Node, where the tests run). */
function isVideoFrame(picture: CameraFrame): picture is VideoFrame {
  return typeof VideoFrame !== 'undefined' && picture instanceof VideoFrame;
}

import { defaultView } from '../models/registry.js';
import type { Explanation, ExplainRequest } from '../src/explain/methods/types.js';
import {
  type DrillMessage,
  type ExplainSettings,
  type FrameDropReason,
  type NewRequest,
  type PerturbMessage,
  type ResultMessage,
  type ToWorker,
  wallClock,
} from '../src/protocol.js';
import { ErrorReporter } from './error-report.js';
import { FrameIntake } from './frame-intake.js';
import { ModelLifecycle } from './model-lifecycle.js';
import { PerturbationJob } from './perturbation-job.js';
import { PictureReader } from './picture-reader.js';
import { type ResultContext, resultMessage } from './result-message.js';
import { isEngineExplainer, Scrambler } from './scrambler.js';
import type { CameraFrame, FrameExplainer, FrameOutcome, Post, ServiceRuntime } from './service-types.js';
import { Teaching } from './teaching.js';
import { answerDescribe } from './model-loader.js';

export type { FrameExplainer, ServiceRuntime } from './service-types.js';

/** The still picture being explained (still-image mode, or a frozen camera frame). */
interface HeldImage {
  bitmap: ImageBitmap;
  imageId: number;
  dirty: boolean;
}

/** The page's messages, one handler each (the worker's whole API). */
type Handlers = { [K in ToWorker['type']]: (message: Extract<ToWorker, { type: K }>) => Promise<void> | void };

/**
 * The worker's state: one model on one backend, the newest camera frame, the settings. Every
 * frame gets one forward pass and the heatmap the settings ask for; results stream back to the
 * page, each naming the source and the request (source, model, settings) it answers. The parts:
 * frame intake (`FrameIntake`), the model's life (`ModelLifecycle`), teaching (`Teaching`),
 * picture reading (`PictureReader`), result messages (`resultMessage`).
 */
export class ExplainService {
  private settings: ExplainSettings | null = null;
  private readonly errors: ErrorReporter;
  private readonly frames: FrameIntake;
  private readonly models: ModelLifecycle;
  private readonly teaching: Teaching;
  private readonly reader = new PictureReader();
  private held: HeldImage | null = null;
  private mode: 'camera' | 'image' = 'camera';
  /** The page's request in force (see `NewRequest`): what results answer from now on. */
  private request = 0;
  /** The engine requests for the settings in force, built once per request and model, not per frame. */
  private views: { request: number; explainer: FrameExplainer; list: ExplainRequest[] } | null = null;
  private results = 0;
  private running = false;
  private heartbeat: ReturnType<typeof setInterval> | null = null;
  /** The live sanity check: the scrambled copy of the explainer, when the `scramble` setting is on. */
  private readonly scrambler = new Scrambler<FrameExplainer>();
  /** The occlusion or LIME run on the still picture, while it runs. */
  private job: PerturbationJob | null = null;
  /** The camera frame finished last: its session (null: none since a still picture) and when, for the idle time of the next. */
  private lastCameraStream: number | null = null;
  private lastCameraFinishedAt = 0;
  /** Set by the 'fail-frame' drill: the next picture's explanation throws. */
  private failNextFrame = false;

  private readonly handlers: Handlers = {
    init: async (m) => {
      this.newRequest(m);
      this.settings = { ...m.settings };
      if (!(await this.models.start(m))) return;
      this.heartbeat ??= setInterval(() => this.post({ type: 'alive' }), 500);
      if (!this.running) void this.run();
    },
    stream: (m) => {
      this.newRequest(m);
      return this.frames.readStream(m.readable, m.streamId);
    },
    track: (m) => {
      this.newRequest(m);
      return this.frames.readTrack(m.track, m.streamId);
    },
    frame: (m) => this.frames.acceptSent(m),
    image: (m) => {
      this.newRequest(m);
      this.job?.cancel();
      this.held?.bitmap.close();
      this.held = { bitmap: m.bitmap, imageId: m.imageId, dirty: true };
      this.mode = 'image';
      this.frames.drop('not-current');
      this.frames.wake();
    },
    camera: (m) => {
      this.newRequest(m);
      this.job?.cancel();
      this.mode = 'camera';
      this.held?.bitmap.close();
      this.held = null;
    },
    settings: async (m) => {
      this.newRequest(m);
      if (this.settings) Object.assign(this.settings, m.settings);
      this.errors.forget();
      if (m.settings.scramble !== undefined) await this.rescramble();
      if (this.held) this.held.dirty = true;
      if (this.settings?.paused) this.frames.drop('paused');
      this.frames.wake();
    },
    model: (m) => {
      this.newRequest(m);
      return this.models.switchTo(m.model);
    },
    'stop-stream': (m) => {
      this.newRequest(m);
      return this.frames.stopStream();
    },
    drill: (m) => this.drill(m.failure),
    'open-model': (m) => {
      this.newRequest(m);
      return this.models.openFiles(m.model, m.files, 'open', m.normalize);
    },
    'describe-model': (m) => answerDescribe(m, this.post),
    'teach-example': (m) => this.teaching.example(m.exampleId, m.bitmap),
    'teach-forget': (m) => this.teaching.forget(m.exampleIds),
    'teach-train': (m) => {
      this.newRequest(m);
      return this.teaching.train(m);
    },
    perturb: (m) => this.perturb(m),
    'perturb-cancel': (m) => {
      if (this.job?.id === m.jobId) this.job.cancel();
    },
  };

  constructor(
    private readonly post: Post,
    runtime: ServiceRuntime,
  ) {
    this.errors = new ErrorReporter(post);
    this.frames = new FrameIntake(post, (streamId) => this.refusal(streamId));
    this.models = new ModelLifecycle(post, runtime, this.errors, {
      detached: (lost) => {
        this.frames.drop('no-model');
        if (!lost) return;
        this.job?.cancel();
        this.scrambler.clear();
      },
      // CAM, the default view and the current settings: the first frames and the CAM toggle are not slowed by compiling.
      views: (explainer, model) => [
        { method: 'cam' },
        defaultView(model),
        this.engineRequest(explainer, this.settings!),
      ],
      installed: async () => {
        // The previous model's scrambled copy and its running job go with it.
        this.job?.cancel();
        await this.rescramble();
        if (this.held) this.held.dirty = true;
      },
      wake: () => this.frames.wake(),
    });
    this.teaching = new Teaching(post, runtime, this.models);
  }

  handle(message: ToWorker): Promise<void> {
    const handler = this.handlers[message.type] as (m: ToWorker) => Promise<void> | void;
    return Promise.resolve(handler(message));
  }

  /** The occlusion or LIME job running now, if any (tests wait for it). */
  get perturbation(): PerturbationJob | null {
    return this.job;
  }

  /** Stops the heartbeat (a worker that is closed needs no other clean-up; tests do). */
  dispose(): void {
    if (this.heartbeat !== null) clearInterval(this.heartbeat);
    this.heartbeat = null;
    this.job?.cancel();
    this.scrambler.clear();
  }

  /** A message that changes the source, model or settings: results from now on answer its request. */
  private newRequest(message: NewRequest): void {
    this.request = message.request ?? this.request + 1;
  }

  /** Makes the scrambled copy match the `scramble` setting; a model that cannot be scrambled is reported. */
  private async rescramble(): Promise<void> {
    try {
      await this.scrambler.update(this.models.explainer, this.settings?.scramble ?? 0);
    } catch (e) {
      this.errors.fail(e, false);
    }
  }

  /**
   * Starts occlusion or LIME on the still picture (returns at once: the job reports its progress and
   * its end, and a cancel message reaches it while it runs). A job already running is cancelled.
   */
  private perturb(message: PerturbMessage): void {
    this.job?.cancel();
    const held = this.held;
    const real = this.models.explainer;
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
    const backend = this.models.backend;
    const job = new PerturbationJob(
      message,
      {
        explainer,
        picture: held.bitmap,
        imageId: held.imageId,
        crop: this.settings!.crop,
        topK: Math.min(5, explainer.labels.size),
        scrambled,
        batchSize: backend === 'webgpu' || backend === 'webgl' ? 16 : 4,
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

  private async drill(failure: DrillMessage['failure']): Promise<void> {
    if (failure === 'fail-frame') this.failNextFrame = true;
    else if (failure === 'crash')
      setTimeout(() => {
        throw new Error('failure drill: the worker crashed');
      });
    else if (failure === 'exit') self.close();
    else this.models.loseDevice();
  }

  /** Why a camera frame of this stream cannot be explained now, or null if it can. */
  private refusal(streamId: number): FrameDropReason | null {
    if (this.mode === 'image' || streamId !== this.frames.streamId) return 'not-current';
    if (!this.models.explainer) return 'no-model';
    if (this.settings?.paused) return 'paused';
    return null;
  }

  /** The processing loop: waits for work, does one frame or picture at a time, never queues. */
  private async run(): Promise<void> {
    this.running = true;
    for (;;) {
      await this.frames.next();
      // Settings, mode or model may have changed since the waiting frame was accepted.
      const refusal = this.refusal(this.frames.streamId);
      if (refusal) this.frames.drop(refusal);
      const explainer = this.models.explainer;
      if (!explainer || this.settings!.paused) continue;
      if (this.mode === 'image') {
        this.lastCameraStream = null;
        const held = this.held;
        if (held?.dirty) {
          held.dirty = false;
          const source = { kind: 'image', imageId: held.imageId } as const;
          await this.process(explainer, held.bitmap, source, null, 0, null);
        }
        continue;
      }
      const next = this.frames.take();
      if (!next) continue;
      const { frame, skipped } = next;
      if (frame.streamId !== this.frames.streamId) {
        this.frames.release(frame, { outcome: 'dropped', reason: 'not-current' });
        continue;
      }
      let outcome: FrameOutcome = { outcome: 'failed', message: 'the worker stopped while explaining this frame' };
      // Idle: the worker finished the session's frame before this one and had nothing to do until now.
      const idleMs = this.lastCameraStream === frame.streamId ? wallClock() - this.lastCameraFinishedAt : null;
      try {
        const source = { kind: 'camera', streamId: frame.streamId } as const;
        outcome = await this.process(explainer, frame.picture, source, frame.captureTime, skipped, idleMs);
      } finally {
        this.frames.release(frame, outcome);
        this.lastCameraStream = frame.streamId;
        this.lastCameraFinishedAt = wallClock();
      }
    }
  }

  /**
   * Explains one picture (with the scrambled copy while the sanity check is on) and posts the result.
   * What it answers (request, model, settings) is fixed here, before anything is awaited.
   */
  private async process(
    real: FrameExplainer,
    picture: CameraFrame,
    source: ResultMessage['source'],
    captureTime: number | null,
    skipped: number,
    idleMs: number | null,
  ): Promise<FrameOutcome> {
    const { explainer, scrambled } = this.scrambler.active(real);
    const settings = this.settings!;
    const context: ResultContext = {
      source,
      request: this.request,
      model: this.models.model,
      settings: { classIndex: settings.classIndex, compare: settings.compare },
      captureTime,
      tookAt: wallClock(),
      idleMs,
      skipped,
      scrambled,
      readMs: 0,
    };
    const requests = this.requestsFor(real, settings);
    const options = { topK: Math.min(5, explainer.labels?.short.length ?? 5), crop: settings.crop };
    return this.scrambler.using(() => this.explainWith(explainer, picture, requests, options, context));
  }

  /** Explains one picture and posts the result; a failure is reported (once per cause) and returned, not thrown. */
  private async explainWith(
    explainer: FrameExplainer,
    picture: CameraFrame,
    requests: ExplainRequest[],
    options: { topK: number; crop: ExplainSettings['crop'] },
    context: ResultContext,
  ): Promise<FrameOutcome> {
    let result: Explanation;
    let second: Explanation | undefined;
    try {
      // Reading the picture's pixels before the engine gets them belongs to "frame → tensor".
      const readStart = performance.now();
      const input = await this.reader.read(picture, this.models.backend);
      context.readMs = performance.now() - readStart;
      try {
        if (this.failNextFrame) {
          this.failNextFrame = false;
          throw new Error('failure drill: this frame could not be explained');
        }
        // Side by side: both views from one forward pass and one read-back.
        [result, second] = (await explainer.explainMany(input, requests, options)) as [Explanation, Explanation?];
      } finally {
        this.reader.release(input, picture);
      }
    } catch (e) {
      const message = this.errors.fail(e, false);
      return { outcome: 'failed', message: message.message };
    }
    this.results++;
    // Besides the camera frame being explained, which is closed right after this message.
    const openFrames = this.frames.openFrames - (context.source.kind === 'camera' ? 1 : 0);
    const message = resultMessage(context, result, second, this.results, this.models.backend, openFrames);
    this.post(message, [result.heatmap.data.buffer, ...(second ? [second.heatmap.data.buffer] : [])]);
    return { outcome: 'done', result: this.results, readMs: context.readMs };
  }

  /** The engine requests for the settings in force: the same array while neither request nor model changes. */
  private requestsFor(explainer: FrameExplainer, settings: ExplainSettings): ExplainRequest[] {
    const v = this.views;
    if (v?.request === this.request && v.explainer === explainer) return v.list;
    const list = [
      this.engineRequest(explainer, settings),
      ...(settings.compare ? [this.engineRequest(explainer, { ...settings, ...settings.compare })] : []),
    ];
    this.views = { request: this.request, explainer, list };
    return list;
  }

  /** CAM is defined at one layer only: it ignores the layer setting, and the result names the layer used. */
  private engineRequest(explainer: FrameExplainer, s: ExplainSettings): ExplainRequest {
    return {
      method: s.method,
      reduction: s.reduction,
      classIndex: s.classIndex,
      contrastClass: s.contrastClass ?? null,
      layer: s.method === 'cam' ? (explainer.camLayer ?? 'auto') : s.layer,
    };
  }
}

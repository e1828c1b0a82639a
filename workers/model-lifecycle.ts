import * as tf from '@tensorflow/tfjs-core';
import { findModel } from '../models/registry.js';
import type { ExplainRequest } from '../src/explain/methods/types.js';
import type { OpenedModel } from '../src/explain/models/open-model.js';
import type { Normalization } from '../src/explain/network/normalization.js';
import {
  type BackendName,
  type InitMessage,
  type ModelFailedMessage,
  PROTOCOL_VERSION,
  type ReadyMessage,
} from '../src/protocol.js';
import { describeError, type ErrorReporter } from './error-report.js';
import { Scrambler } from './scrambler.js';
import type { FrameExplainer, Post, ServiceRuntime } from './service-types.js';

/**
 * Where the model in use came from: a registered id, or files (kept, with the normalisation they
 * were opened with, to reopen them the same way after a lost GPU device).
 */
type ModelOrigin =
  | { kind: 'registered' }
  | {
      kind: 'files';
      files: File[];
      normalize: Normalization | undefined;
      opened: Pick<OpenedModel, 'kind' | 'name' | 'methodNotes' | 'summary'>;
    };

/** What the model's life means for the rest of the service. */
interface ModelHooks {
  /** The model in use is going (a switch; `lost`: its GPU device is gone): nothing may be explained with it now. */
  detached(lost: boolean): void;
  /** The views to compile before a model is used. */
  views(explainer: FrameExplainer, model: string): ExplainRequest[];
  /** A model became the one in use (before the page hears `ready`). */
  installed(explainer: FrameExplainer): Promise<void>;
  /** After `ready`: the processing loop may go on. */
  wake(): void;
}

/**
 * The backend and the model in use: choosing the backend, loading, switching and opening models
 * (from the registry or from files), compiling their kernels, and rebuilding both when the GPU
 * device is lost. On failure the previous model stays and the page hears why.
 */
export class ModelLifecycle {
  explainer: FrameExplainer | null = null;
  backend: BackendName | null = null;
  init: InitMessage | null = null;
  origin: ModelOrigin = { kind: 'registered' };
  /** What the page was last told the worker is ready with: said again when a switch fails and that model stays. */
  private lastReady: ReadyMessage | null = null;
  /** Threads the WASM backend computes with (1 when single-threaded, or on another backend). */
  private wasmThreads = 1;

  constructor(
    private readonly post: Post,
    private readonly runtime: ServiceRuntime,
    private readonly errors: ErrorReporter,
    private readonly hooks: ModelHooks,
  ) {}

  /** The model id in use (or being loaded). */
  get model(): string {
    return this.init?.model ?? '';
  }

  /** Chooses a backend and loads the first model; false if the worker cannot go on. */
  async start(message: InitMessage): Promise<boolean> {
    if (message.version !== PROTOCOL_VERSION) {
      this.post({
        type: 'error',
        code: 'version',
        message: `The page speaks protocol ${message.version}, this worker ${PROTOCOL_VERSION}.`,
        hint: 'Reload the page.',
        fatal: true,
      });
      return false;
    }
    this.init = message;
    try {
      this.progress('Choosing a backend…');
      const choice = await this.runtime.chooseBackend(message.backend);
      this.backend = choice.name;
      this.wasmThreads = choice.wasmThreads ?? 1;
      await this.load(message.model, choice.notes);
      return true;
    } catch (e) {
      this.errors.fail(e, true);
      return false;
    }
  }

  /**
   * Switches to a registered model. When it cannot be loaded (a model this server lacks, a damaged
   * file) the previous one stays: the page hears why (`model-failed`, during `switch`) and then
   * `ready` with the model kept, so that it shows and explains with that one again.
   */
  async switchTo(model: string): Promise<void> {
    if (!this.init || !this.backend) return;
    const kept = this.lastReady;
    const previous = this.detach();
    try {
      await this.load(model, []);
      previous?.dispose();
    } catch (e) {
      this.explainer = previous;
      if (!previous || !kept) return void this.errors.fail(e, false);
      this.failed(model, 'switch', e);
      this.lastReady = kept;
      this.post({ ...kept });
      this.hooks.wake();
    }
  }

  /**
   * Opens a model from files and makes it the one in use; on failure the previous model stays and
   * the page hears why (`model-failed`, naming the missing file or the unsupported layer class).
   */
  async openFiles(
    model: string,
    files: File[],
    during: ModelFailedMessage['during'],
    normalize?: Normalization,
  ): Promise<void> {
    if (!this.init || !this.backend || !this.runtime.openFiles) return;
    const t0 = performance.now();
    let opened: OpenedModel;
    try {
      this.progress(`Opening ${files.map((f) => f.name).join(', ')}…`);
      opened = await this.runtime.openFiles(files, this.init.modelBaseUrl, (text) => this.progress(text), normalize);
    } catch (e) {
      this.failed(model, during, e);
      return;
    }
    const previous = this.detach();
    try {
      await this.install(opened.explainer, model, [], { kind: 'files', files, normalize, opened }, t0);
      previous?.dispose();
    } catch (e) {
      opened.explainer.dispose();
      this.explainer = previous;
      this.failed(model, during, e);
    }
  }

  /** Tells the page a model could not be used (`model-failed`). */
  failed(model: string, during: ModelFailedMessage['during'], e: unknown): void {
    const error = describeError(e, false);
    this.post({
      type: 'model-failed',
      model,
      during,
      code: error.code === 'version' ? 'internal' : error.code,
      message: error.message,
      hint: error.hint,
    });
  }

  /** The 'lose-device' drill. */
  loseDevice(): void {
    if (this.backend === 'webgpu') (tf.backend() as unknown as { device: { destroy(): void } }).device.destroy();
    else this.errors.fail(new Error(`failure drill: no GPU device to lose on the ${this.backend} backend`), false);
  }

  private detach(lost = false): FrameExplainer | null {
    const previous = this.explainer;
    this.explainer = null;
    this.hooks.detached(lost);
    return previous;
  }

  private async load(model: string, notes: string[]): Promise<void> {
    const t0 = performance.now();
    const explainer = await this.runtime.fetchExplainer(model, this.init!.modelBaseUrl, (text) => this.progress(text));
    await this.install(explainer, model, notes, { kind: 'registered' }, t0);
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
    // Compile the views the app switches between, so that the first frames are not slowed by compilation.
    const views = this.hooks.views(explainer, model).filter((v) => {
      try {
        explainer.resolve(v);
        return true;
      } catch {
        return false;
      }
    });
    await explainer.warmUp(views);
    this.explainer = explainer;
    this.init!.model = model;
    this.origin = origin;
    await this.hooks.installed(explainer);
    this.watchDevice();
    this.lastReady = {
      type: 'ready',
      version: PROTOCOL_VERSION,
      backend: this.backend!,
      backendNotes: notes,
      model,
      layers: [...explainer.featureLayers],
      lastConvLayer: explainer.lastConvLayer,
      camLayer: explainer.camLayer,
      ...this.facts(explainer, model, origin),
      startupMs: performance.now() - t0,
      wasmThreads: this.wasmThreads,
      scrambleBlocks: Scrambler.blocks(explainer),
    };
    this.post(this.lastReady);
    this.hooks.wake();
  }

  private facts(
    explainer: FrameExplainer,
    model: string,
    origin: ModelOrigin,
  ): Pick<ReadyMessage, 'labels' | 'modelName' | 'origin' | 'methodNotes' | 'modelSummary'> {
    const labels = [...(explainer.labels?.short ?? [])];
    if (origin.kind === 'registered') {
      const modelName = findModel(model)?.displayName ?? model;
      return { labels, modelName, origin: 'registered', methodNotes: null, modelSummary: [] };
    }
    return {
      labels,
      modelName: origin.opened.name,
      origin: origin.opened.kind,
      methodNotes: origin.opened.methodNotes,
      modelSummary: [...origin.opened.summary],
    };
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
    const old = this.detach(true);
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
        this.lostFiles?.();
        const onProgress = (text: string): void => this.progress(text);
        const opened = await this.runtime.openFiles!(origin.files, init.modelBaseUrl, onProgress, origin.normalize);
        await this.install(opened.explainer, init.model, notes, origin);
      } else {
        await this.load(init.model, notes);
      }
    } catch (e) {
      this.errors.fail(e, true);
    }
  }

  /** Called when a model from files is reopened after a lost device (the teaching session's base is gone too). */
  lostFiles: (() => void) | null = null;

  private progress(text: string): void {
    this.post({ type: 'progress', text });
  }
}

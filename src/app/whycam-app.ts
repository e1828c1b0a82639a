import { css, html, LitElement } from 'lit';
import { customElement, query, state } from 'lit/decorators.js';
import { DEFAULT_MODEL_ID, FAST_MODEL_ID, findModel } from '../../models/registry.js';
import { COLORMAPS } from '../explain/colormaps.js';
import { isWhyCamError } from '../explain/errors.js';
import { HeatmapSmoother } from '../explain/heatmap.js';
import { IMAGENET_LABELS } from '../explain/labels.js';
import { METHOD_NAMES, METHODS } from '../explain/methods.js';
import type { FeatureLayer } from '../explain/network.js';
import {
  type BackendName, type ExplainSettings, type FromWorker, PROTOCOL_VERSION, type ReadyMessage, type ResultMessage,
} from '../protocol.js';
import type { WhyCamApi, WhyCamSet, WhyCamStatus } from './automation.js';
import { type CameraInfo, listCameras, openCamera, stopCamera, trackReadable } from './camera.js';
import './controls.js';
import './help-overlay.js';
import type { HudFigures } from './hud.js';
import './hud.js';
import { decodeImageFile } from './image-file.js';
import type { LiveView, PaintedEvent } from './live-view.js';
import './live-view.js';
import './notice.js';
import type { NoticeAction } from './notice.js';
import type { PredictionList } from './prediction-list.js';
import './prediction-list.js';
import { type AppSettings, startOptions } from './settings.js';
import { type Action, actionFor } from './shortcuts.js';
import { Pwa } from './pwa.js';
import { snapshotPng } from './snapshot.js';
import { RateMeter, RollingSamples } from './stats.js';
import { WorkerClient } from './worker-client.js';

interface Notice {
  message: string;
  hint: string;
  kind: 'error' | 'info';
  actions: NoticeAction[];
  /** Removed when the thing it reports is over (camera back, worker restarted…). */
  topic: string;
}

const WORKER_SETTINGS = ['method', 'layer', 'reduction', 'classIndex', 'crop'] as const;
const DIM_OUTSIDE = 0.45;

/**
 * The app root: owns the settings, the camera, the worker and the measurements, and gives them
 * to the elements that show them. All mutable state of the page lives here.
 */
@customElement('whycam-app')
export class WhyCamApp extends LitElement {
  static override styles = css`
    :host { display: block; min-height: 100vh; background: var(--bg, #0b0e14); color: var(--text, #e8e8e8);
      font: 16px/1.45 system-ui, -apple-system, Segoe UI, Roboto, sans-serif; --accent: #ffcc00; --panel: #141923; --panel-2: #1d2330; --track: #333b4a; }
    :host([projector]) { font-size: 24px; --bg: #000; --text: #fff; --panel: #000; --panel-2: #111; --track: #888; --accent: #ffff00; --label-size: 2rem; }
    header { display: flex; align-items: baseline; gap: 0.8rem; flex-wrap: wrap; padding: 0.5rem 1rem; }
    h1 { margin: 0; font-size: 1.3em; }
    header .tag { opacity: 0.7; }
    header .status { margin-left: auto; font-size: 0.9em; opacity: 0.85; }
    .notices { display: grid; gap: 0.5rem; padding: 0 1rem 0.5rem; }
    main { display: grid; grid-template-columns: minmax(0, 1fr) minmax(17rem, 24rem); gap: 1rem; padding: 0 1rem 1rem; align-items: start; }
    aside { display: grid; gap: 0.8rem; }
    section { background: var(--panel); border-radius: 0.5rem; padding: 0.7rem 0.9rem; }
    h2 { margin: 0 0 0.5rem; font-size: 1em; opacity: 0.8; text-transform: uppercase; letter-spacing: 0.04em; }
    whycam-live-view { border-radius: 0.5rem; overflow: hidden; }
    .drop { outline: 3px dashed var(--accent); }
    .badge { font-size: 0.8em; padding: 0.1rem 0.5rem; border-radius: 1rem; border: 1px solid var(--track); }
    .badge.offline { background: #5a1d1d; border-color: #ff7070; color: #ffdcdc; }
    .install { font: inherit; padding: 0.2rem 0.8rem; border-radius: 0.35rem; cursor: pointer; }
    footer { padding: 0 1rem 1rem; opacity: 0.6; font-size: 0.85em; }
    @media (max-width: 52rem) { main { grid-template-columns: 1fr; } }
  `;

  @state() private settings: AppSettings;
  @state() private ready: ReadyMessage | null = null;
  @state() private mode: 'camera' | 'image' | 'none' = 'none';
  @state() private frozen = false;
  @state() private stream: MediaStream | null = null;
  @state() private picture: ImageBitmap | null = null;
  @state() private cameras: CameraInfo[] = [];
  @state() private cameraId = '';
  @state() private notices: Notice[] = [];
  @state() private progress = 'Starting…';
  /** The newest result. Not reactive: it changes every frame, and only the view, the predictions and the label need it then. */
  private latest: ResultMessage | null = null;
  /** The layer the heatmaps come from (what auto / CAM resolved to): re-renders the controls when it changes. */
  @state() private resolvedLayer = '';
  @state() private figures: HudFigures | null = null;
  @state() private helpOpen = false;
  @state() private dragging = false;
  @state() private online = navigator.onLine;
  @state() private installable = false;
  @state() private offlineReady = false;
  @state() private updateReady = false;

  @query('whycam-live-view') private view!: LiveView;
  @query('whycam-predictions') private predictionList!: PredictionList;
  @query('input[type=file]') private fileInput!: HTMLInputElement;

  private readonly forcedBackend: BackendName | null;
  private readonly wantCamera: boolean;
  private worker: WorkerClient | null = null;
  private streamId = 0;
  private imageId = 0;
  private frames = 0;
  private workerStarts = 0;
  /** The suggestion to switch to the fast model is made once. */
  private speedAdvised = false;
  private readonly smoother = new HeatmapSmoother();
  private readonly latency = new RollingSamples(120);
  private readonly rate = new RateMeter(2000);
  private readonly stageSamples: ResultMessage['timings'][] = [];
  private readonly recent: WhyCamStatus['recent'] = [];
  private readonly timeline: WhyCamStatus['timeline'] = { cameraStarted: null, firstHeatmap: null };
  private readonly painting = new Map<number, ResultMessage>();
  private fallbackFramePump = 0;
  private hudTimer = 0;
  private watchdogTimer = 0;
  private cameraRetryTimer = 0;
  /** When the worker was last heard from (any message, including its twice-a-second heartbeat). */
  private lastHeard = performance.now();
  /** No heartbeat is expected while a model loads and compiles. */
  private modelLoading = true;
  private readonly pwa = new Pwa({
    updateReady: () => {
      this.updateReady = true;
      this.showNotice({ topic: 'update', kind: 'info', message: 'A new version is ready — reload', hint: 'WhyCam was updated; reloading takes a second and keeps working offline.', actions: [{ label: 'Reload', action: 'apply-update' }] });
    },
    installable: (available) => { this.installable = available; },
    online: (online) => { this.online = online; },
    offlineReady: () => { this.offlineReady = true; },
  });

  constructor() {
    super();
    const start = startOptions(new URLSearchParams(location.search));
    this.settings = start.settings;
    this.forcedBackend = start.backend;
    this.wantCamera = start.camera;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    this.toggleAttribute('projector', this.settings.projector);
    this.worker = new WorkerClient(
      () => new Worker(new URL('../../workers/explain.worker.ts', import.meta.url), { type: 'module', name: 'whycam-explain' }),
      { message: (m) => this.onWorkerMessage(m), restarted: (reason) => this.onWorkerRestarted(reason) },
    );
    this.initWorker();
    for (const [target, type, listener] of this.pageListeners()) target?.addEventListener(type, listener);
    this.hudTimer = window.setInterval(() => this.updateFigures(), 500);
    this.watchdogTimer = window.setInterval(() => this.checkWorker(), 250);
    this.pwa.start();
    const api: WhyCamApi = {
      status: () => this.status(),
      set: (partial: WhyCamSet) => this.set(partial),
      openImage: (blob: Blob) => this.openPicture(blob),
      useCamera: () => this.useCamera(),
      save: () => this.save(),
      drill: (failure: 'crash' | 'exit' | 'lose-device') => this.worker!.send({ type: 'drill', failure }),
      checkForUpdate: () => this.pwa.checkForUpdate(),
    };
    (window as unknown as { whycam: WhyCamApi }).whycam = api;
    if (this.wantCamera) void this.useCamera();
    else this.mode = 'none';
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    for (const [target, type, listener] of this.pageListeners()) target?.removeEventListener(type, listener);
    delete (window as unknown as { whycam?: WhyCamApi }).whycam;
    clearInterval(this.hudTimer);
    clearInterval(this.watchdogTimer);
    clearTimeout(this.cameraRetryTimer);
    this.pwa.stop();
    this.stopFramePump();
    stopCamera(this.stream);
    this.worker?.terminate();
  }

  /** The page-wide events the app listens to, added on connect and removed on disconnect. */
  private pageListeners(): [EventTarget | undefined, string, EventListener][] {
    return [
      [window, 'keydown', this.onKey as EventListener],
      [window, 'paste', this.onPaste as EventListener],
      [window, 'dragover', this.onDragOver as EventListener],
      [window, 'dragleave', this.onDragLeave],
      [window, 'drop', this.onDrop as EventListener],
      [document, 'visibilitychange', this.onVisibility],
      [navigator.mediaDevices, 'devicechange', this.onDeviceChange],
    ];
  }

  protected override render() {
    const s = this.settings;
    const latest = this.latest;
    const emptyText = this.mode === 'none'
      ? 'No camera. Open a photo (o), drop one here, or paste one.'
      : this.progress;
    return html`
      <header>
        <h1>WhyCam</h1><span class="tag">why did the network decide that?</span>
        <span class="status" data-status>${this.ready ? `${this.ready.backend} · ${findModel(s.model)?.displayName ?? s.model}` : this.progress}</span>
        ${this.online ? null : html`<span class="badge offline" data-badge="offline" title="No network: WhyCam keeps working from its offline copy">Offline</span>`}
        ${this.offlineReady && this.online ? html`<span class="badge" data-badge="offline-ready" title="Everything needed is saved on this device">Works offline</span>` : null}
        ${this.installable ? html`<button type="button" class="install" @click=${() => void this.pwa.install()}>Install</button>` : null}
      </header>
      <div class="notices">
        ${this.notices.map((n) => html`<whycam-notice data-topic=${n.topic} kind=${n.kind} .message=${n.message} .hint=${n.hint} .actions=${n.actions}
          @notice-action=${(e: CustomEvent<{ action: string }>) => this.onNoticeAction(e.detail.action)}></whycam-notice>`)}
      </div>
      <main>
        <whycam-live-view class=${this.dragging ? 'drop' : ''} .stream=${this.stream} .picture=${this.picture} ?mirror=${s.mirror}
          .overlayStyle=${{ colormap: s.colormap, alpha: s.alpha, threshold: s.threshold, dimOutside: DIM_OUTSIDE }}
          .label=${this.overlayLabel()}
          .emptyText=${emptyText} @painted=${this.onPainted}></whycam-live-view>
        <aside>
          <section>
            <h2>Prediction</h2>
            <whycam-predictions .predictions=${latest?.predictions ?? []} .pinned=${s.classIndex}
              .pinnedLabel=${s.classIndex === null ? '' : IMAGENET_LABELS.label(s.classIndex)}
              @pin=${(e: CustomEvent<{ classIndex: number | null }>) => this.apply({ classIndex: e.detail.classIndex })}></whycam-predictions>
          </section>
          <section>
            <h2>Explanation</h2>
            <whycam-controls .settings=${s} .layers=${this.ready?.layers ?? []} .camLayer=${this.ready?.camLayer ?? null}
              .resolvedLayer=${this.resolvedLayer} .cameras=${this.cameras} .cameraId=${this.cameraId} .mode=${this.mode} ?frozen=${this.frozen}
              @settings-change=${(e: CustomEvent<Partial<AppSettings>>) => this.apply(e.detail)}
              @action=${(e: CustomEvent<{ action: Action }>) => void this.perform(e.detail.action)}
              @camera-change=${(e: CustomEvent<{ camera: string }>) => void this.changeCamera(e.detail.camera)}></whycam-controls>
          </section>
          <section>
            <h2>Performance</h2>
            <whycam-hud .figures=${this.figures}></whycam-hud>
          </section>
        </aside>
      </main>
      <whycam-help ?open=${this.helpOpen} @close=${() => { this.helpOpen = false; }}></whycam-help>
      <input type="file" accept="image/*" hidden @change=${this.onFileChosen}>
      <footer>WhyCam ${import.meta.env.VITE_APP_VERSION ?? ''} · build ${import.meta.env.VITE_BUILD_ID ?? 'dev'} · pictures never leave this device</footer>
    `;
  }

  // ---- the worker ------------------------------------------------------------------------

  private workerSettings(): ExplainSettings {
    const s = this.settings;
    return { method: s.method, layer: s.layer, reduction: s.reduction, classIndex: s.classIndex, crop: s.crop, paused: document.hidden };
  }

  private initWorker(): void {
    this.workerStarts++;
    this.worker!.send({
      type: 'init',
      version: PROTOCOL_VERSION,
      backend: this.forcedBackend,
      model: this.settings.model,
      modelBaseUrl: new URL('models', new URL(import.meta.env.BASE_URL, location.href)).href,
      settings: this.workerSettings(),
    });
  }

  private onWorkerMessage(m: FromWorker): void {
    this.lastHeard = performance.now();
    switch (m.type) {
      case 'alive':
        return;
      case 'stream-ended':
        if (m.streamId === this.streamId && this.stream) this.onCameraLost(this.stream);
        return;
      case 'recovering':
        this.modelLoading = true;
        this.progress = 'Restarting the GPU backend…';
        this.showNotice({ topic: 'worker', kind: 'info', message: 'The GPU stopped working; WhyCam is restarting its backend.', hint: m.reason, actions: [] });
        return;
      case 'progress':
        this.progress = m.text;
        return;
      case 'ready':
        this.ready = m;
        this.modelLoading = false;
        this.progress = '';
        this.dropNotice('model');
        // The note that the worker was restarted stays a few seconds, so that it can be read.
        if (this.notices.some((n) => n.topic === 'worker')) setTimeout(() => this.dropNotice('worker'), 8000);
        if (this.settings.model !== m.model) this.settings = { ...this.settings, model: m.model };
        return;
      case 'error':
        this.showNotice({
          topic: m.fatal ? 'model' : 'request',
          kind: 'error',
          message: m.message,
          hint: m.hint ?? '',
          actions: m.fatal ? [{ label: 'Reload', action: 'reload' }] : [],
        });
        if (m.fatal) {
          this.progress = m.message;
          this.modelLoading = true;
        }
        return;
      case 'result':
        this.onResult(m);
        return;
    }
  }

  /** A worker that has gone quiet for several of its own frame times is dead: replace it. */
  private checkWorker(): void {
    if (!this.ready || this.modelLoading || document.hidden) return;
    const frameMs = this.stageSamples.at(-1)?.totalMs ?? 0;
    const limit = Math.max(1500, 3 * frameMs + 500);
    if (performance.now() - this.lastHeard > limit) this.worker?.restart(`the worker stopped answering for ${((performance.now() - this.lastHeard) / 1000).toFixed(1)} s`);
  }

  private onWorkerRestarted(reason: string): void {
    this.ready = null;
    this.modelLoading = true;
    this.lastHeard = performance.now();
    this.progress = 'Restarting the explanation worker…';
    this.showNotice({ topic: 'worker', kind: 'info', message: 'The explanation worker stopped and was restarted.', hint: reason, actions: [] });
    this.initWorker();
    // The old worker took the camera stream with it: hand the new one a fresh one.
    if (this.mode === 'camera' && this.stream && !this.frozen) this.attachStream(this.stream);
    else if (this.picture) void this.sendPicture(this.picture);
  }

  private onResult(r: ResultMessage): void {
    const current = r.source.kind === 'camera'
      ? this.mode === 'camera' && !this.frozen && r.source.streamId === this.streamId
      : r.source.imageId === this.imageId;
    if (!current) return;
    this.dropNotice('request');
    const heatmap = this.settings.smoothing > 0 ? this.smoother.smooth(r.heatmap, this.settings.smoothing) : r.heatmap;
    if (this.settings.smoothing === 0) this.smoother.reset();
    this.latest = { ...r, heatmap };
    this.stageSamples.push(r.timings);
    if (this.stageSamples.length > 30) this.stageSamples.shift();
    this.painting.set(r.frame, r);
    this.view.show({ heatmap, region: r.region, sourceSize: r.sourceSize, captureTime: r.captureTime, frame: r.frame });
    this.view.label = this.overlayLabel();
    this.predictionList.predictions = r.predictions;
    if (r.layer !== this.resolvedLayer) this.resolvedLayer = r.layer;
  }

  private overlayLabel(): string {
    const target = this.latest?.target;
    if (!target) return '';
    return `${target.label} ${(target.score * 100).toFixed(0)}%${this.settings.classIndex !== null ? ' (pinned)' : ''}`;
  }

  private onPainted = (e: PaintedEvent): void => {
    this.frames++;
    this.timeline.firstHeatmap ??= performance.now();
    const r = this.painting.get(e.detail.frame);
    this.painting.clear();
    if (r) {
      this.recent.push({ frame: this.frames, method: r.method, layer: r.layer, classIndex: r.target.classIndex, width: r.heatmap.width });
      if (this.recent.length > 30) this.recent.shift();
    }
    this.rate.tick(performance.now());
    if (e.detail.captureTime !== null) this.latency.add(e.detail.paintedAt - e.detail.captureTime);
  };

  // ---- camera and pictures ---------------------------------------------------------------

  /** Starts (or restarts) the camera; `quiet` retries leave the current message as it is on failure. */
  private async useCamera(choice: string = this.cameraId, quiet = false): Promise<void> {
    clearTimeout(this.cameraRetryTimer);
    this.progress = 'Starting the camera…';
    try {
      const device = choice.startsWith('facing:')
        ? { facingMode: choice.slice(7) as 'user' | 'environment' }
        : choice ? { deviceId: choice } : null;
      const stream = await openCamera({ device, resolution: this.settings.resolution });
      this.timeline.cameraStarted ??= performance.now();
      stopCamera(this.stream);
      this.frozen = false;
      this.picture = null;
      this.stream = stream;
      this.mode = 'camera';
      this.dropNotice('camera');
      const track = stream.getVideoTracks()[0]!;
      this.cameraId = track.getSettings().deviceId ?? '';
      track.addEventListener('ended', () => this.onCameraLost(stream));
      this.worker!.send({ type: 'camera' });
      this.attachStream(stream);
      this.cameras = await listCameras();
    } catch (e) {
      this.mode = this.picture ? 'image' : 'none';
      if (quiet) return;
      const err = isWhyCamError(e) ? e : null;
      this.showNotice({
        topic: 'camera', kind: 'error',
        message: err?.message.split('\n')[0] ?? String(e),
        hint: err?.hint ?? '',
        actions: [{ label: 'Open a photo', action: 'open-image' }, { label: 'Try the camera again', action: 'use-camera' }],
      });
    }
  }

  private attachStream(stream: MediaStream): void {
    const track = stream.getVideoTracks()[0];
    if (!track || track.readyState === 'ended') return;
    this.streamId++;
    this.smoother.reset();
    this.latency.clear();
    this.rate.clear();
    this.stopFramePump();
    const readable = trackReadable(track);
    if (readable) {
      this.worker!.send({ type: 'stream', readable, streamId: this.streamId }, [readable]);
    } else {
      this.startFramePump();
    }
  }

  /** Where there is no track processor: one frame at a time from the video element, newest only. */
  private startFramePump(): void {
    const streamId = this.streamId;
    let inFlight = 0;
    const pump = (_now: number, meta: VideoFrameCallbackMetadata): void => {
      const video = this.view?.videoElement;
      if (!video || streamId !== this.streamId) return;
      const done = this.latest?.frame ?? 0;
      if (!this.frozen && (inFlight === 0 || done >= inFlight)) {
        const captureTime = performance.timeOrigin + (meta.captureTime ?? meta.presentationTime);
        void createImageBitmap(video).then((bitmap) => {
          inFlight = (this.latest?.frame ?? 0) + 1;
          this.worker!.send({ type: 'frame', bitmap, captureTime, streamId }, [bitmap]);
        });
      }
      this.fallbackFramePump = video.requestVideoFrameCallback(pump);
    };
    const start = (): void => {
      const video = this.view?.videoElement;
      if (video) this.fallbackFramePump = video.requestVideoFrameCallback(pump);
      else requestAnimationFrame(start);
    };
    start();
  }

  private stopFramePump(): void {
    if (this.fallbackFramePump) this.view?.videoElement?.cancelVideoFrameCallback(this.fallbackFramePump);
    this.fallbackFramePump = 0;
  }

  private onCameraLost(stream: MediaStream): void {
    if (stream !== this.stream) return;
    stopCamera(stream);
    this.stream = null;
    this.frozen = false;
    this.mode = this.picture ? 'image' : 'none';
    this.worker!.send({ type: 'stop-stream' });
    this.showNotice({
      topic: 'camera', kind: 'error', message: 'The camera stopped (unplugged, or taken by another program).',
      hint: 'WhyCam resumes by itself when a camera comes back; meanwhile you can open a photo.',
      actions: [{ label: 'Try the camera again', action: 'use-camera' }, { label: 'Open a photo', action: 'open-image' }],
    });
    this.scheduleCameraRetry();
  }

  /** Tries the camera again every two seconds, quietly, until one answers or a photo is opened. */
  private scheduleCameraRetry(): void {
    clearTimeout(this.cameraRetryTimer);
    this.cameraRetryTimer = window.setTimeout(() => {
      if (this.stream || this.mode === 'image') return;
      if (document.hidden) return this.scheduleCameraRetry();
      void this.useCamera(this.cameraId, true).then(() => {
        if (!this.stream) this.scheduleCameraRetry();
      });
    }, 2000);
  }

  private onDeviceChange = (): void => {
    if (!this.stream && this.notices.some((n) => n.topic === 'camera') && this.mode !== 'image') void this.useCamera('');
    void listCameras().then((c) => { this.cameras = c; });
  };

  private async changeCamera(choice: string): Promise<void> {
    await this.useCamera(choice);
  }

  private async openPicture(blob: Blob): Promise<void> {
    try {
      const bitmap = await decodeImageFile(blob);
      clearTimeout(this.cameraRetryTimer);
      this.frozen = false;
      this.picture?.close();
      this.picture = bitmap;
      this.mode = 'image';
      this.dropNotice('image');
      await this.sendPicture(bitmap);
    } catch (e) {
      const err = isWhyCamError(e) ? e : null;
      this.showNotice({ topic: 'image', kind: 'error', message: err?.message.split('\n')[0] ?? String(e), hint: err?.hint ?? '', actions: [{ label: 'Open another photo', action: 'open-image' }] });
    }
  }

  /** Sends a copy (the worker takes ownership of what it is sent; the page keeps showing its own). */
  private async sendPicture(bitmap: ImageBitmap): Promise<void> {
    const copy = await createImageBitmap(bitmap);
    this.imageId++;
    this.smoother.reset();
    this.worker!.send({ type: 'image', bitmap: copy, imageId: this.imageId }, [copy]);
  }

  private async freeze(on: boolean): Promise<void> {
    if (on === this.frozen) return;
    if (on) {
      const video = this.view.videoElement;
      if (this.mode !== 'camera' || !video || video.videoWidth === 0) return;
      video.pause();
      const still = await createImageBitmap(video);
      this.frozen = true;
      this.picture = still;
      await this.sendPicture(still);
    } else {
      this.frozen = false;
      this.picture?.close();
      this.picture = null;
      this.smoother.reset();
      this.worker!.send({ type: 'camera' });
      void this.view.videoElement?.play();
    }
  }

  // ---- settings --------------------------------------------------------------------------

  /** Applies settings on the next frame: worker ones are sent, view ones take effect at once. */
  private apply(partial: Partial<AppSettings>): void {
    const before = this.settings;
    const next = { ...before, ...partial };
    if (partial.method !== undefined && partial.method !== before.method && partial.layer === undefined && partial.method !== 'cam') {
      next.layer = before.layer;
    }
    this.settings = next;
    const changed = WORKER_SETTINGS.filter((k) => next[k] !== before[k]);
    if (changed.length > 0) {
      this.smoother.reset();
      this.worker!.send({ type: 'settings', settings: Object.fromEntries(changed.map((k) => [k, next[k]])) });
    }
    if (next.model !== before.model) {
      this.ready = null;
      this.modelLoading = true;
      this.progress = `Loading ${findModel(next.model)?.displayName ?? next.model}…`;
      this.worker!.send({ type: 'model', model: next.model });
    }
    if (next.resolution !== before.resolution && this.mode === 'camera') void this.useCamera(this.cameraId);
    if (next.projector !== before.projector) this.toggleAttribute('projector', next.projector);
  }

  private set(partial: WhyCamSet): void {
    const { frozen, ...rest } = partial;
    if (rest.method !== undefined && !METHODS.includes(rest.method)) throw new Error(`Unknown method ${rest.method}; valid: ${METHODS.join(', ')}`);
    if (rest.classIndex !== undefined && rest.classIndex !== null && !(rest.classIndex >= 0 && rest.classIndex < 1000)) throw new Error('classIndex must be 0-999 or null');
    this.apply(rest);
    if (frozen !== undefined) void this.freeze(frozen);
  }

  private async perform(action: Action): Promise<void> {
    const s = this.settings;
    const layers = this.ready?.layers ?? [];
    const cycle = <T>(list: readonly T[], current: T, step = 1): T => list[(list.indexOf(current) + step + list.length) % list.length]!;
    switch (action) {
      case 'toggle-cam':
        // CAM against the default view, the comparison the classroom demo is about.
        return this.apply(s.method === 'cam'
          ? { method: 'layercam', layer: findModel(s.model)?.viewLayer ?? 'auto', reduction: 'logit' }
          : { method: 'cam' });
      case 'next-method': return this.apply({ method: cycle(METHODS, s.method) });
      case 'next-layer':
      case 'previous-layer': {
        // The keys step through block outputs (the activations); the menu lists every layer.
        const blocks = layers.filter((l) => /relu$/.test(l.name));
        const names = ['auto', ...(blocks.length > 0 ? blocks : layers).map((l) => l.name)];
        return this.apply({ layer: cycle(names, s.layer, action === 'next-layer' ? -1 : 1) });
      }
      case 'toggle-reduction': return this.apply({ reduction: s.reduction === 'logit' ? 'softmax' : 'logit' });
      case 'next-colormap': return this.apply({ colormap: cycle(COLORMAPS, s.colormap) });
      case 'alpha-down': return this.apply({ alpha: Math.max(0, round2(s.alpha - 0.1)) });
      case 'alpha-up': return this.apply({ alpha: Math.min(1, round2(s.alpha + 0.1)) });
      case 'threshold-down': return this.apply({ threshold: Math.max(0, round2(s.threshold - 0.1)) });
      case 'threshold-up': return this.apply({ threshold: Math.min(0.9, round2(s.threshold + 0.1)) });
      case 'next-smoothing': return this.apply({ smoothing: cycle([0, 0.5, 0.8], s.smoothing) });
      case 'unpin': return this.apply({ classIndex: null });
      case 'freeze': return this.freeze(!this.frozen);
      case 'mirror': return this.apply({ mirror: !s.mirror });
      case 'open-image': this.fileInput.click(); return;
      case 'use-camera': return this.useCamera();
      case 'save': return this.save();
      case 'next-model': return this.apply({ model: s.model === DEFAULT_MODEL_ID ? FAST_MODEL_ID : DEFAULT_MODEL_ID });
      case 'toggle-crop': return this.apply({ crop: s.crop === 'center' ? 'full' : 'center' });
      case 'projector': return this.apply({ projector: !s.projector });
      case 'help': this.helpOpen = !this.helpOpen; return;
      case 'close': this.helpOpen = false; return;
    }
  }

  private async save(): Promise<void> {
    const r = this.latest;
    const source = this.view?.source;
    if (!r || !source) {
      this.showNotice({ topic: 'save', kind: 'info', message: 'Nothing to save yet: wait for the first heatmap.', hint: '', actions: [] });
      return;
    }
    const s = this.settings;
    const title = `${r.target.label} (${r.target.score.toFixed(2)}) — ${METHOD_NAMES[r.method]}`;
    const blob = await snapshotPng(source, r.heatmap, r.region, { colormap: s.colormap, alpha: s.alpha, threshold: s.threshold, dimOutside: DIM_OUTSIDE }, title, s.mirror);
    const a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    a.download = `whycam-${r.target.label.replace(/[^\w-]+/g, '_')}-${r.method.replace('++', 'pp')}.png`;
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
  }

  // ---- events ------------------------------------------------------------------------------

  private onKey = (e: KeyboardEvent): void => {
    const action = actionFor(e);
    if (!action) return;
    e.preventDefault();
    void this.perform(action);
  };

  private onFileChosen = (e: Event): void => {
    const input = e.target as HTMLInputElement;
    const file = input.files?.[0];
    input.value = '';
    if (file) void this.openPicture(file);
  };

  private onPaste = (e: ClipboardEvent): void => {
    const file = [...(e.clipboardData?.files ?? [])].find((f) => f.type.startsWith('image/'));
    if (file) {
      e.preventDefault();
      void this.openPicture(file);
    }
  };

  private onDragOver = (e: DragEvent): void => {
    if (![...(e.dataTransfer?.types ?? [])].includes('Files')) return;
    e.preventDefault();
    this.dragging = true;
  };

  private onDragLeave = (): void => {
    this.dragging = false;
  };

  private onDrop = (e: DragEvent): void => {
    this.dragging = false;
    const file = e.dataTransfer?.files?.[0];
    if (!file) return;
    e.preventDefault();
    void this.openPicture(file);
  };

  private onVisibility = (): void => {
    this.worker?.send({ type: 'settings', settings: { paused: document.hidden } });
  };

  private onNoticeAction(action: string): void {
    if (action === 'reload') location.reload();
    else if (action === 'apply-update') this.pwa.applyUpdate();
    else if (action === 'use-fast-model') {
      this.dropNotice('speed');
      this.apply({ model: FAST_MODEL_ID });
    }
    else void this.perform(action as Action);
  }

  private showNotice(notice: Notice): void {
    this.notices = [...this.notices.filter((n) => n.topic !== notice.topic), notice];
  }

  private dropNotice(topic: string): void {
    if (this.notices.some((n) => n.topic === topic)) this.notices = this.notices.filter((n) => n.topic !== topic);
  }

  // ---- measurements --------------------------------------------------------------------

  private stages(): HudFigures['stages'] {
    const n = this.stageSamples.length;
    if (n === 0) return null;
    const mean = (k: keyof ResultMessage['timings']): number => this.stageSamples.reduce((a, t) => a + t[k], 0) / n;
    return { waitMs: mean('waitMs'), preprocessMs: mean('preprocessMs'), forwardMs: mean('forwardMs'), heatmapMs: mean('heatmapMs'), readbackMs: mean('readbackMs') };
  }

  /** On a slow device, suggests the model that keeps up: measured, after a few seconds of live work. */
  private adviseOnSpeed(rate: number): void {
    const s = this.settings;
    if (this.speedAdvised || this.mode !== 'camera' || this.frozen || s.model !== DEFAULT_MODEL_ID || this.frames < 20 || rate >= 8) return;
    this.speedAdvised = true;
    const fast = findModel(FAST_MODEL_ID)!;
    this.showNotice({
      topic: 'speed', kind: 'info',
      message: `This device explains ${rate.toFixed(1)} pictures per second with ${findModel(s.model)?.displayName ?? s.model}.`,
      hint: `${fast.displayName} is about three times faster (and less accurate): it follows the camera more smoothly.`,
      actions: [{ label: 'Use the fast model', action: 'use-fast-model' }],
    });
  }

  private updateFigures(): void {
    const r = this.latest;
    if (!r || !this.ready) return;
    const s = this.settings;
    this.adviseOnSpeed(this.rate.rate(performance.now()));
    const layer = this.ready.layers.find((l) => l.name === r.layer);
    this.figures = {
      heatmapsPerSecond: this.rate.rate(performance.now()),
      cameraFps: this.mode === 'camera' && !this.frozen ? this.view.cameraFps : null,
      latencyMs: { p50: this.latency.percentile(50), p95: this.latency.percentile(95) },
      stages: this.stages(),
      backend: this.ready.backend,
      backendNotes: this.ready.backendNotes,
      model: findModel(this.ready.model)?.displayName ?? this.ready.model,
      layer: r.layer,
      grid: layer ? `${layer.height}×${layer.width}` : `${r.heatmap.height}×${r.heatmap.width}`,
      method: METHOD_NAMES[r.method],
      reduction: r.method === 'cam' ? 'classifier weights' : r.reduction,
      coincidence: coincidence(r, this.ready, s),
    };
  }

  private status(): WhyCamStatus {
    const r = this.latest;
    const s = this.settings;
    return {
      ready: !!this.ready,
      backend: this.ready?.backend ?? null,
      backendNotes: this.ready?.backendNotes ?? [],
      model: this.ready?.model ?? s.model,
      method: r?.method ?? s.method,
      reduction: r?.reduction ?? s.reduction,
      layer: r?.layer ?? null,
      layers: (this.ready?.layers ?? []).map((l: FeatureLayer) => ({ name: l.name, width: l.width, height: l.height })),
      classIndex: s.classIndex,
      target: r?.target ?? null,
      mode: this.mode,
      frozen: this.frozen,
      frames: this.frames,
      recent: [...this.recent],
      fps: this.rate.rate(performance.now()),
      cameraFps: this.mode === 'camera' && this.view ? this.view.cameraFps : null,
      latencyMs: { p50: this.latency.percentile(50), p95: this.latency.percentile(95) },
      stages: this.stages(),
      predictions: r?.predictions ?? [],
      heatmap: r ? { width: r.heatmap.width, height: r.heatmap.height, data: Array.from(r.heatmap.data) } : null,
      region: r?.region ?? null,
      numTensors: r?.numTensors ?? null,
      openFrames: r?.openFrames ?? null,
      memory: r ? { ...r.memory, pageHeapBytes: (performance as unknown as { memory?: { usedJSHeapSize: number } }).memory?.usedJSHeapSize ?? null } : null,
      renderer: this.view?.rendererKind ?? 'none',
      workerRestarts: this.worker?.restartCount ?? 0,
      workerStarts: this.workerStarts,
      online: this.online,
      offlineReady: this.offlineReady,
      updateReady: this.updateReady,
      notices: this.notices.map((n) => ({ topic: n.topic, message: n.message })),
      timeline: { ...this.timeline },
      error: this.notices.find((n) => n.kind === 'error')?.message ?? null,
      settings: { ...s },
    };
  }
}

/** The sentence for teachers when two settings give the same map. */
function coincidence(r: ResultMessage, ready: ReadyMessage, s: AppSettings): string | null {
  if (r.method === 'gradcam' && r.reduction === 'logit' && r.layer === ready.camLayer) {
    return 'Here Grad-CAM is exactly CAM: after this layer the network only averages and applies one linear layer, so the gradient weights are the classifier\'s weights. Try LayerCAM, the softmax reduction or an earlier layer to see a difference.';
  }
  if (r.method === 'cam' && s.layer !== 'auto' && s.layer !== ready.camLayer) {
    return `CAM is defined only at ${ready.camLayer}, so the layer choice (${s.layer}) does not apply to it.`;
  }
  return null;
}

function round2(v: number): number {
  return Math.round(v * 100) / 100;
}

declare global {
  interface HTMLElementTagNameMap {
    'whycam-app': WhyCamApp;
  }
}

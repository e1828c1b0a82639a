import { localized, msg } from '@lit/localize';
import { html, LitElement } from 'lit';
import { customElement, query, state } from 'lit/decorators.js';
import { DEFAULT_MODEL_ID, FAST_MODEL_ID } from '../../models/registry.js';
import type { ResultMessage, ToWorker } from '../protocol.js';
import { isSettingsAction, settingsFor } from './actions.js';
import { appAside } from './app-aside.js';
import { appStage } from './app-stage.js';
import { AutomationController } from './controllers/automation-api.js';
import { ComparisonController } from './controllers/comparison.js';
import { ExplanationController } from './controllers/explanation.js';
import { LessonController } from './controllers/lessons.js';
import { MeasurementsController } from './controllers/measurements.js';
import { NoticesController } from './controllers/notices.js';
import { PageInputController } from './controllers/page-input.js';
import { PerturbationController } from './controllers/perturbation.js';
import { PresentationController } from './controllers/presentation.js';
import { PwaController } from './controllers/pwa.js';
import { SourceController } from './controllers/source.js';
import { ModelLibraryController, settingsForModel } from './controllers/model-library.js';
import { TeachController } from './controllers/teach.js';
import { TrustController } from './controllers/trust.js';
import { VideoTools } from './controllers/video-tools.js';
import { WorkerConnection } from './controllers/worker-connection.js';
import './elements.js';
import { OverlayStyles } from './heatmap-renderer.js';
import type { LiveView } from './live-view.js';
import { isLang } from './i18n/choose-lang.js';
import { currentLang, setLang } from './i18n/locale.js';
import { NOTICES } from './notice-texts.js';
import { noticeList } from './notice.js';
import { type AppSettings, startOptions, WORKER_SETTINGS, workerSettingsOf } from './settings.js';
import type { Action } from './shortcuts.js';
import { saveSnapshot } from './snapshot.js';
import { type AppState, figuresOf, statusOf } from './status.js';
import type { LessonAction } from './lessons/lesson-actions.js';
import { isLibraryAction } from './teach-types.js';
import { appStyles } from './whycam-app.styles.js';

/**
 * The app root: keeps the settings, composes the controllers (worker connection, source, explanation,
 * measurements, notices, PWA, page input) and renders; properties go down to the elements, events come up.
 */
@customElement('whycam-app')
@localized()
export class WhyCamApp extends LitElement {
  static override styles = appStyles;

  @state() private settings: AppSettings;
  @state() private helpOpen = false;
  @state() private dragging = false;
  @query('whycam-live-view') private view!: HTMLElementTagNameMap['whycam-live-view'] | null;
  @query('input[type=file]') private fileInput!: HTMLInputElement;

  private readonly overlayStyles = new OverlayStyles();
  private readonly startCamera: boolean;
  private readonly notices = new NoticesController(this);
  // On a slow device, suggest the model that keeps up.
  private readonly measurements = new MeasurementsController(this, (rate) => {
    if (this.source.mode !== 'camera' || this.source.frozen || this.settings.model !== DEFAULT_MODEL_ID) return false;
    this.notices.show(NOTICES.slowDevice(rate, this.settings.model, FAST_MODEL_ID));
    return true;
  });
  private readonly explanation = new ExplanationController(this);
  private readonly comparison = new ComparisonController(this);
  // Leaving fullscreen with the browser's Escape leaves presentation mode.
  private readonly presentation = new PresentationController(this, () => this.apply({ presentation: false }));
  private readonly pwa = new PwaController(this, () => this.notices.show(NOTICES.updateReady()));
  private readonly worker: WorkerConnection;
  private readonly source: SourceController;
  private readonly library: ModelLibraryController;
  private readonly teach: TeachController;
  private readonly trust = new TrustController(this.notices);
  private readonly perturbation: PerturbationController;
  private readonly tools: VideoTools;
  private readonly lessons: LessonController;

  constructor() {
    super();
    const start = startOptions(new URLSearchParams(location.search));
    this.settings = start.settings;
    this.startCamera = start.camera;
    this.worker = new WorkerConnection(
      this,
      start.backend,
      {
        init: () => ({
          model: ModelLibraryController.registeredOrDefault(this.settings.model),
          settings: workerSettingsOf(this.settings, document.hidden),
        }),
        result: (r) => this.onResult(r),
        frameAck: (ack) => this.source.acknowledge(ack),
        streamEnded: (id) => this.source.camera.streamEnded(id),
        trackRefused: (id) => this.source.camera.trackRefused(id),
        ready: (m) => {
          this.notices.drop('model');
          // The note that the worker was restarted stays a few seconds, so that it can be read.
          this.notices.dropLater('worker', 8000);
          if (this.settings.model !== m.model) this.settings = { ...this.settings, model: m.model };
          this.apply(settingsForModel(m, this.settings));
          this.library.onReady(m);
          this.lessons.modelReady(m);
        },
        other: (m) =>
          m.type === 'perturbation'
            ? this.perturbation.onMessage(m)
            : this.library.onMessage(m) || this.teach.onMessage(m),
        error: (m) => this.notices.show(NOTICES.workerError(m)),
        recovering: (reason) => this.notices.show(NOTICES.gpuRecovering(reason)),
        restarted: (reason) => {
          this.notices.show(NOTICES.workerRestarted(reason));
          this.perturbation.restarted();
          this.tools.clip.restarted();
          this.source.resend();
          // A restarted worker starts on a registered model; a kept model is opened again.
          this.library.restarted(this.settings.model);
        },
      },
      () => this.measurements.lastFrameMs,
    );
    const send = (m: ToWorker, transfer?: Transferable[]): void => this.worker.send(m, transfer);
    const video = (): HTMLVideoElement | undefined => this.view?.videoElement;
    const resolution = (): AppSettings['resolution'] => this.settings.resolution;
    const restarted = (): void => {
      this.explanation.clear();
      this.comparison.restart();
      this.measurements.restart();
    };
    this.source = new SourceController(this, { send, view: () => this.view, resolution, restarted }, this.notices);
    const views = (): LiveView[] => [...this.renderRoot.querySelectorAll('whycam-live-view')];
    const videoParts = { send, source: this.source, notices: this.notices, views };
    this.tools = new VideoTools(this, { ...videoParts, settings: () => this.settings });
    this.library = new ModelLibraryController(
      this,
      {
        send,
        useModel: (id) => this.apply({ model: id }),
        loadRegistered: (id, name) => this.worker.loadModel(id, name),
      },
      this.notices,
    );
    const cameraLive = (): boolean => this.source.mode === 'camera' && !this.source.frozen;
    this.teach = new TeachController(this, { send, video, cameraLive }, this.notices, this.library);
    const classIndex = (): number | null => this.settings.classIndex;
    this.perturbation = new PerturbationController(this, { send, source: this.source, classIndex }, this.notices);
    new PageInputController(this, {
      action: (a) => void this.perform(a),
      picture: (file) => void this.source.openFile(file),
      modelFiles: (files) => void this.library.openModel(files).catch(() => undefined),
      dragging: (on) => void (this.dragging = on),
      visibility: (hidden) => this.worker.send({ type: 'settings', settings: { paused: hidden } }),
    });
    const { worker, source, perturbation, library, teach, pwa, explanation } = this;
    const [view, style] = [() => this.view?.source, () => this.overlayStyles.of(this.settings)];
    const parts = { teach, explanation, perturbing: perturbation, connection: worker, source, view, style };
    this.lessons = new LessonController(this, { ...parts, settings: () => this.settings, apply: (p) => this.apply(p) });
    const { lessons, tools } = this;
    new AutomationController(this, {
      ...{ worker, source, perturbation, library, teach, pwa, tools, lessons },
      status: () => statusOf(this.state()),
      save: () => this.save(),
      apply: (partial) => this.apply(partial),
    });
  }

  override connectedCallback(): void {
    super.connectedCallback();
    this.presentation.sync(this.settings.presentation);
    if (this.startCamera) void this.source.useCamera();
  }

  protected override render() {
    const s = this.settings;
    const ready = this.worker.ready;
    const r = this.explanation.latest;
    const progress = this.worker.progress;
    const figures = this.measurements.figures(() => figuresOf(this.state()));
    const { perturbation, teach, library, lessons } = this;
    return html`
      <whycam-header .status=${ready ? `${ready.backend} · ${ready.modelName}` : progress} .online=${this.pwa.online}
        .offlineReady=${this.pwa.offlineReady} .installable=${this.pwa.installable} @install=${() => void this.pwa.install()}
        .language=${currentLang()} @lang-change=${(e: CustomEvent<{ lang: string }>) => {
          if (isLang(e.detail.lang)) void setLang(e.detail.lang);
        }}></whycam-header>
      <div class="notices">
        ${noticeList(this.notices.all, (action) => this.onNoticeAction(action))}
      </div>
      <main @lesson-action=${(e: CustomEvent<LessonAction>) => lessons.perform(e.detail)}>${appStage({ ...this.stageParts(), progress, latest: r, figures, onPainted: this.measurements.onPainted })}
        ${appAside(
          { settings: s, ready, latest: r, figures, source: this.source, perturbation, teach, library, lessons },
          {
            apply: (p) => this.apply(p),
            perform: (a) => void this.perform(a),
            teachAction: (a) => (isLibraryAction(a) ? library.perform(a, s.model) : teach.perform(a)),
          },
        )}
      </main>
      <whycam-help ?open=${this.helpOpen} .model=${s.model} @close=${() => {
        this.helpOpen = false;
      }} @action=${(e: CustomEvent<{ action: Action }>) => void this.perform(e.detail.action)}></whycam-help>
      <input type="file" accept="image/*,video/*,.mkv,.webm" hidden @change=${this.source.onFileChosen}>
      <whycam-worksheet .lessons=${lessons} .revision=${lessons.revision}></whycam-worksheet>
      <footer>WhyCam ${import.meta.env.VITE_APP_VERSION ?? ''} · ${msg('build')} ${import.meta.env.VITE_BUILD_ID ?? 'dev'} · ${msg('pictures never leave this device')}</footer>
    `;
  }

  private onResult(r: ResultMessage): void {
    if (this.tools.clip.accept(r)) return;
    if (!this.source.isCurrent(r)) return;
    this.notices.drop('request');
    this.explanation.accept(r, this.settings.smoothing);
    this.comparison.accept(r, this.settings.smoothing);
    this.measurements.received(r);
  }

  /** Applies settings on the next frame: worker ones are sent, view ones take effect at once. */
  private apply(partial: Partial<AppSettings>): void {
    const before = this.settings;
    const next = { ...before, ...partial };
    this.settings = next;
    const changed = WORKER_SETTINGS.filter((k) => next[k] !== before[k]);
    this.trust.sync(next, this.worker.ready);
    if (changed.length > 0) {
      this.perturbation.dismiss();
      this.explanation.restart();
      this.comparison.restart();
      this.worker.send({ type: 'settings', settings: Object.fromEntries(changed.map((k) => [k, next[k]])) });
    }
    if (next.model !== before.model) this.library.use(next.model);
    if (next.resolution !== before.resolution && this.source.mode === 'camera') void this.source.useCamera();
    this.presentation.sync(next.presentation);
  }

  private async perform(action: Action): Promise<void> {
    if (isSettingsAction(action))
      return this.apply(settingsFor(action, this.settings, this.worker.ready?.layers ?? []));
    switch (action) {
      case 'freeze':
        return this.source.freeze(!this.source.frozen);
      case 'open-image':
        return this.fileInput.click();
      case 'use-camera':
        return this.source.useCamera();
      case 'save':
        return this.save();
      case 'record':
        return this.tools.recording.toggle();
      case 'help':
        this.helpOpen = !this.helpOpen;
        return;
      case 'close':
        if (!this.helpOpen) this.apply({ presentation: false });
        this.helpOpen = false;
        return;
    }
  }

  private save(): Promise<void> {
    const [r, source] = [this.explanation.latest, this.view?.source];
    if (!r || !source) return Promise.resolve(this.notices.show(NOTICES.nothingToSave()));
    return saveSnapshot(source, r, this.overlayStyles.of(this.settings), this.settings.mirror);
  }

  private stageParts() {
    const { settings, dragging, source, explanation, comparison, perturbation, trust, tools, lessons } = this;
    const card = html`<whycam-lesson-card .lessons=${lessons} .revision=${lessons.revision} ?floating=${settings.presentation}></whycam-lesson-card>`;
    const style = this.overlayStyles.of(settings);
    return { settings, dragging, style, card, source, explanation, comparison, perturbation, trust, tools };
  }

  private onNoticeAction(action: string): void {
    if (action === 'reload') location.reload();
    else if (action === 'apply-update') this.pwa.applyUpdate();
    else if (action === 'unscramble') this.apply({ scramble: 0 });
    else if (action === 'use-fast-model') {
      this.notices.drop('speed');
      this.apply({ model: FAST_MODEL_ID });
    } else void this.perform(action as Action);
  }

  private state(): AppState {
    const { settings, worker, measurements, notices, pwa, teach, comparison, presentation, perturbation } = this;
    const parts = { settings, worker, measurements, notices, pwa, teach, comparison, presentation, perturbation };
    const { source, tools } = this;
    const current = { source, tools, mode: source.mode, frozen: source.frozen, camera: source.camera };
    return { ...parts, ...current, latest: this.explanation.latest, view: this.view, lang: currentLang() };
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'whycam-app': WhyCamApp;
  }
}

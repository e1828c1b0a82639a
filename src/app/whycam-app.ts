import { localized, msg } from '@lit/localize';
import { html, LitElement } from 'lit';
import { customElement, query, state } from 'lit/decorators.js';
import { DEFAULT_MODEL_ID, FAST_MODEL_ID, findModel } from '../../models/registry.js';
import { METHODS } from '../explain/methods/names.js';
import type { ExplainSettings, ResultMessage, ToWorker } from '../protocol.js';
import { isSettingsAction, settingsFor } from './actions.js';
import type { WhyCamSet } from './automation.js';
import { checkClassroomSet, ComparisonController, type Pairing, pairing } from './controllers/comparison.js';
import { ExplanationController } from './controllers/explanation.js';
import { MeasurementsController } from './controllers/measurements.js';
import { NoticesController } from './controllers/notices.js';
import { PageInputController } from './controllers/page-input.js';
import { type PerturbationAction, PerturbationController } from './controllers/perturbation.js';
import { PresentationController } from './controllers/presentation.js';
import { PwaController } from './controllers/pwa.js';
import { SourceController } from './controllers/source.js';
import { settingsForModel, TeachController } from './controllers/teach.js';
import { TrustController } from './controllers/trust.js';
import { WorkerConnection } from './controllers/worker-connection.js';
import './elements.js';
import type { OverlayStyle } from './heatmap-renderer.js';
import { isLang, LANGS } from './i18n/choose-lang.js';
import { currentLang, setLang } from './i18n/locale.js';
import { methodCaption } from './i18n/method-caption.js';
import type { LiveView } from './live-view.js';
import { storedModelName } from './model-store.js';
import { NOTICES } from './notice-texts.js';
import { type AppSettings, startOptions } from './settings.js';
import type { Action } from './shortcuts.js';
import type { TeachAction } from './teach-panel.js';
import { downloadSnapshot } from './snapshot.js';
import { type AppState, figuresOf, statusOf } from './status.js';
import { appStyles } from './whycam-app.styles.js';

const WORKER_SETTINGS = [
  'method',
  'layer',
  'reduction',
  'classIndex',
  'crop',
  'contrastClass',
  'compare',
  'scramble',
] as const;
const DIM_OUTSIDE = 0.45;

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
  @query('whycam-live-view') private view!: LiveView | null;
  @query('input[type=file]') private fileInput!: HTMLInputElement;

  private overlayStyle: OverlayStyle | null = null;
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
  private readonly teach: TeachController;
  private readonly trust = new TrustController(this.notices);
  private readonly perturbation: PerturbationController;

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
          model: TeachController.registeredOrDefault(this.settings.model),
          settings: this.workerSettings(),
        }),
        result: (r) => this.onResult(r),
        frameAck: (ack) => this.source.camera.acknowledge(ack),
        streamEnded: (id) => this.source.camera.streamEnded(id),
        ready: (m) => {
          this.notices.drop('model');
          // The note that the worker was restarted stays a few seconds, so that it can be read.
          this.notices.dropLater('worker', 8000);
          if (this.settings.model !== m.model) this.settings = { ...this.settings, model: m.model };
          this.apply(settingsForModel(m, this.settings));
          this.teach.onReady(m);
        },
        other: (m) => (m.type === 'perturbation' ? this.perturbation.onMessage(m) : this.teach.onMessage(m)),
        error: (m) => this.notices.show(NOTICES.workerError(m)),
        recovering: (reason) => this.notices.show(NOTICES.gpuRecovering(reason)),
        restarted: (reason) => {
          this.notices.show(NOTICES.workerRestarted(reason));
          this.perturbation.restarted();
          this.source.resend();
          // A restarted worker starts on a registered model; a kept model is opened again.
          if (storedModelName(this.settings.model)) void this.teach.useStored(this.settings.model);
        },
      },
      () => this.measurements.lastFrameMs,
    );
    this.source = new SourceController(
      this,
      {
        send: (m, transfer) => this.worker.send(m, transfer),
        video: () => this.view?.videoElement,
        resolution: () => this.settings.resolution,
        restarted: () => {
          this.explanation.restart();
          this.measurements.restart();
        },
      },
      this.notices,
    );
    this.teach = new TeachController(
      this,
      {
        send: (m, transfer) => this.worker.send(m, transfer),
        video: () => this.view?.videoElement,
        cameraLive: () => this.source.mode === 'camera' && !this.source.frozen,
        useModel: (id) => this.apply({ model: id }),
      },
      this.notices,
    );
    const classIndex = (): number | null => this.settings.classIndex;
    const send = (m: ToWorker): void => this.worker.send(m);
    this.perturbation = new PerturbationController(this, { send, source: this.source, classIndex }, this.notices);
    new PageInputController(this, {
      action: (a) => void this.perform(a),
      picture: (file) => void this.source.openPicture(file),
      modelFiles: (files) => void this.teach.openModel(files).catch(() => undefined),
      dragging: (on) => {
        this.dragging = on;
      },
      visibility: (hidden) => this.worker.send({ type: 'settings', settings: { paused: hidden } }),
    });
  }

  override connectedCallback(): void {
    super.connectedCallback();
    this.presentation.sync(this.settings.presentation);
    window.whycam = {
      status: () => statusOf(this.state()),
      set: (partial) => this.set(partial),
      openImage: (blob) => this.source.openPicture(blob),
      useCamera: () => this.source.useCamera(),
      save: () => this.save(),
      drill: (failure) => this.worker.send({ type: 'drill', failure }),
      checkForUpdate: () => this.pwa.checkForUpdate(),
      perturb: (request) => this.perturbation.run(request),
      cancelPerturbation: () => this.perturbation.cancel(),
      openModel: async (files) => {
        const m = await this.teach.openModel(files);
        return { model: m.model, labels: m.labels, modelName: m.modelName };
      },
      teach: (spec) => this.teach.teach(spec),
    };
    if (this.startCamera) void this.source.useCamera();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    delete window.whycam;
  }

  protected override render() {
    const s = this.settings;
    const ready = this.worker.ready;
    const r = this.explanation.latest;
    const progress = this.worker.progress;
    const figures = this.measurements.figures(() => figuresOf(this.state()));
    return html`
      <whycam-header .status=${ready ? `${ready.backend} · ${ready.modelName}` : progress} .online=${this.pwa.online}
        .offlineReady=${this.pwa.offlineReady} .installable=${this.pwa.installable} @install=${() => void this.pwa.install()}
        .language=${currentLang()} @lang-change=${(e: CustomEvent<{ lang: string }>) => {
          if (isLang(e.detail.lang)) void setLang(e.detail.lang);
        }}></whycam-header>
      <div class="notices">
        ${this.notices.all.map(
          (
            n,
          ) => html`<whycam-notice data-topic=${n.topic} kind=${n.kind} .message=${n.message} .hint=${n.hint} .actions=${n.actions}
          @notice-action=${(e: CustomEvent<{ action: string }>) => this.onNoticeAction(e.detail.action)}></whycam-notice>`,
        )}
      </div>
      <main><div class="stage ${s.compare ? 'pair' : ''}">
        <whycam-live-view class=${this.dragging ? 'drop' : ''} .stream=${this.source.camera.stream} .picture=${this.source.still.picture} ?mirror=${s.mirror}
          .overlayStyle=${this.styleFor(s)} .frame=${this.perturbation.frame ?? this.explanation.frame} .label=${this.trust.label(this.perturbation.label() ?? this.comparison.firstLabel(r, s.classIndex !== null), r)}
          .emptyText=${this.source.mode === 'none' ? msg('No camera. Open a photo (o), drop one here, or paste one.') : progress}
          @painted=${this.measurements.onPainted}>${s.hud ? html`<whycam-hud-line .figures=${figures} .shown=${this.comparison.shown(r)}></whycam-hud-line>` : null}</whycam-live-view>
        ${
          s.compare
            ? html`<whycam-live-view class="second" .stream=${this.source.camera.stream} .picture=${this.source.still.picture} ?mirror=${s.mirror}
          .overlayStyle=${this.styleFor(s)} .frame=${this.comparison.frame} .label=${this.comparison.secondLabel()}></whycam-live-view>`
            : null
        }</div>
        <aside>
          <section>
            <h2>${msg('Prediction')}</h2>
            <whycam-predictions .predictions=${r?.predictions ?? []} .pinned=${s.classIndex}
              .pinnedLabel=${s.classIndex === null ? '' : (ready?.labels[s.classIndex] ?? '')}
              @pin=${(e: CustomEvent<{ classIndex: number | null }>) => this.apply({ classIndex: e.detail.classIndex })} .contrast=${s.contrastClass}
              @contrast=${(e: CustomEvent<{ classIndex: number | null }>) => this.apply({ contrastClass: e.detail.classIndex })}></whycam-predictions>
          </section>
          <section>
            <h2>${msg('Explanation')}</h2>
            <whycam-controls .settings=${s} .scrambleBlocks=${ready?.scrambleBlocks ?? NO_LAYERS} .labels=${ready?.labels ?? NO_LAYERS} .stored=${this.teach.stored} .layers=${ready?.layers ?? NO_LAYERS} .camLayer=${ready?.camLayer ?? null}
              .resolvedLayer=${r?.layer ?? ''} .cameras=${this.source.camera.cameras} .cameraId=${this.source.camera.cameraId} .mode=${this.source.mode} ?frozen=${this.source.frozen}
              @settings-change=${(e: CustomEvent<Partial<AppSettings>>) => this.apply(e.detail)}
              @action=${(e: CustomEvent<{ action: Action }>) => void this.perform(e.detail.action)}
              @camera-change=${(e: CustomEvent<{ camera: string }>) => void this.source.useCamera(e.detail.camera)}
              @compare-pairing=${(e: CustomEvent<{ pairing: Pairing }>) => this.apply({ compare: pairing(e.detail.pairing, s, ready, r?.predictions ?? []) })}></whycam-controls>
          </section>
          <section>
            <h2>${msg('Occlusion and LIME')}</h2>
            <whycam-perturbation-panel .view=${this.perturbation.view} ?live=${this.source.mode === 'camera' && !this.source.frozen}
              @perturbation-action=${(e: CustomEvent<PerturbationAction>) => void this.perturbation.perform(e.detail)}></whycam-perturbation-panel>
          </section>
          <section>
            <h2>${msg('Teach')}</h2>
            <whycam-teach-panel .teach=${this.teach} .revision=${this.teach.revision} .model=${s.model} .methodNotes=${ready?.methodNotes ?? null}
              @teach-action=${(e: CustomEvent<TeachAction>) => this.teach.perform(e.detail, s.model)}></whycam-teach-panel>
          </section>
          <section>
            <h2>${msg('Performance')}</h2>
            <whycam-hud .figures=${figures}></whycam-hud>
          </section>
        </aside>
      </main>
      <whycam-help ?open=${this.helpOpen} @close=${() => {
        this.helpOpen = false;
      }}></whycam-help>
      <input type="file" accept="image/*" hidden @change=${this.onFileChosen}>
      <footer>WhyCam ${import.meta.env.VITE_APP_VERSION ?? ''} · ${msg('build')} ${import.meta.env.VITE_BUILD_ID ?? 'dev'} · ${msg('pictures never leave this device')}</footer>
    `;
  }

  private workerSettings(): ExplainSettings {
    const s = this.settings;
    return {
      method: s.method,
      layer: s.layer,
      reduction: s.reduction,
      classIndex: s.classIndex,
      crop: s.crop,
      contrastClass: s.contrastClass,
      compare: s.compare,
      scramble: s.scramble,
      paused: document.hidden,
    };
  }

  private onResult(r: ResultMessage): void {
    if (!this.source.isCurrent(r)) return;
    this.notices.drop('request');
    this.explanation.accept(r, this.settings.smoothing);
    this.comparison.accept(r, this.settings.smoothing);
    this.measurements.received(r);
  }

  /** The same object while the style is the same: a new one would repaint the overlay. */
  private styleFor(s: AppSettings): OverlayStyle {
    const o = this.overlayStyle;
    if (o?.colormap === s.colormap && o.alpha === s.alpha && o.threshold === s.threshold) return o;
    return (this.overlayStyle = {
      colormap: s.colormap,
      alpha: s.alpha,
      threshold: s.threshold,
      dimOutside: DIM_OUTSIDE,
    });
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
    if (next.model !== before.model && storedModelName(next.model)) void this.teach.useStored(next.model);
    else if (next.model !== before.model)
      this.worker.loadModel(next.model, findModel(next.model)?.displayName ?? next.model);
    if (next.resolution !== before.resolution && this.source.mode === 'camera') void this.source.useCamera();
    this.presentation.sync(next.presentation);
  }

  private set(partial: WhyCamSet): void {
    const { frozen, lang, ...rest } = partial;
    if (lang !== undefined && !isLang(lang))
      throw new Error(`Unknown lang ${String(lang)}; valid: ${LANGS.join(', ')}`);
    if (rest.method !== undefined && !METHODS.includes(rest.method))
      throw new Error(`Unknown method ${rest.method}; valid: ${METHODS.join(', ')}`);
    if (
      rest.classIndex !== undefined &&
      rest.classIndex !== null &&
      !(rest.classIndex >= 0 && rest.classIndex < (this.worker.ready?.labels.length || 1000))
    )
      throw new Error('classIndex must be 0-999 or null');
    checkClassroomSet(rest, this.worker.ready?.labels.length || 1000);
    TrustController.check(rest.scramble, this.worker.ready);
    this.apply(rest);
    if (frozen !== undefined) void this.source.freeze(frozen);
    if (lang !== undefined) void setLang(lang);
  }

  private async perform(action: Action): Promise<void> {
    if (isSettingsAction(action))
      return this.apply(settingsFor(action, this.settings, this.worker.ready?.layers ?? NO_LAYERS));
    switch (action) {
      case 'freeze':
        return this.source.freeze(!this.source.frozen);
      case 'open-image':
        return this.fileInput.click();
      case 'use-camera':
        return this.source.useCamera();
      case 'save':
        return this.save();
      case 'help':
        this.helpOpen = !this.helpOpen;
        return;
      case 'close':
        if (!this.helpOpen) this.apply({ presentation: false });
        this.helpOpen = false;
        return;
    }
  }

  private async save(): Promise<void> {
    const r = this.explanation.latest;
    const source = this.view?.source;
    if (!r || !source) return this.notices.show(NOTICES.nothingToSave());
    const s = this.settings;
    await downloadSnapshot(source, r.heatmap, r.region, this.styleFor(s), s.mirror, r.target, {
      id: r.method,
      name: methodCaption(r.method, r.layer),
    });
  }

  private onFileChosen = (e: Event): void => {
    const input = e.target as HTMLInputElement;
    const file = input.files?.[0];
    input.value = '';
    if (file) void this.source.openPicture(file);
  };

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
    const { settings, worker, measurements, notices, pwa, source } = this;
    return {
      settings,
      latest: this.explanation.latest,
      mode: source.mode,
      frozen: source.frozen,
      worker,
      camera: source.camera,
      measurements,
      notices,
      pwa,
      view: this.view,
      teach: this.teach,
      comparison: this.comparison,
      presentation: this.presentation,
      perturbation: this.perturbation,
      lang: currentLang(),
    };
  }
}

const NO_LAYERS: readonly never[] = [];

declare global {
  interface HTMLElementTagNameMap {
    'whycam-app': WhyCamApp;
  }
}

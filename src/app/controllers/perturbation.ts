import { msg } from '@lit/localize';
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import { PERTURBATION_METHOD_NAMES, type PerturbationMethod } from '../../explain/perturbation/names.js';
import type {
  PerturbationMessage,
  PerturbationResult,
  PerturbationSettings,
  PerturbMessage,
  ToWorker,
} from '../../protocol.js';
import type { OverlayFrame } from '../live-view.js';
import { NOTICES } from '../notice-texts.js';
import type { NoticesController } from './notices.js';
import type { SourceController } from './source.js';

export type PerturbationState = 'idle' | 'running' | 'done' | 'cancelled' | 'failed';

/** What the panel shows: the controller's state, as one value. */
export interface PerturbationView {
  method: PerturbationMethod;
  options: PerturbationSettings;
  state: PerturbationState;
  done: number;
  total: number;
  result: PerturbationResult | null;
  failure: string | null;
  /** The finished map is on the overlay now. */
  shown: boolean;
}

/** What the panel asks for (events up). */
export type PerturbationAction =
  | { op: 'run' }
  | { op: 'cancel' }
  | { op: 'dismiss' }
  | { op: 'change'; method?: PerturbationMethod; options?: Partial<PerturbationSettings> };

/** Every option at the CLI's default (`whycam explain --method occlusion|lime`). */
const DEFAULT_PERTURBATION_SETTINGS: PerturbationSettings = {
  maskSize: null,
  stride: null,
  maskValue: null,
  numFeatures: null,
  numSamples: null,
  segmentation: null,
};

interface PerturbationHost {
  send(message: ToWorker): void;
  /** What is explained: the still picture is held (the live camera frame frozen) before a run. */
  source: Pick<SourceController, 'holdPicture' | 'showsPicture'>;
  /** The class to explain (the pinned one), or null for the top-1. */
  classIndex(): number | null;
}

/**
 * Occlusion sensitivity and LIME on the page: too slow for live video, so they run on the still
 * picture (freezing the camera frame first), in the worker, with progress and a cancel that stops
 * the work. The finished map is shown in the overlay until the settings or the picture change.
 */
export class PerturbationController implements ReactiveController {
  method: PerturbationMethod = 'occlusion';
  options: PerturbationSettings = { ...DEFAULT_PERTURBATION_SETTINGS };
  state: PerturbationState = 'idle';
  /** Forward passes done of the total, for the progress bar. */
  done = 0;
  total = 0;
  result: PerturbationResult | null = null;
  /** Why the last run failed. */
  failure: string | null = null;
  private jobId = 0;
  private hidden = true;
  private waiters: ((state: PerturbationState) => void)[] = [];

  constructor(
    private readonly host: ReactiveControllerHost,
    private readonly page: PerturbationHost,
    private readonly notices: NoticesController,
  ) {
    host.addController(this);
  }

  hostDisconnected(): void {
    this.cancel();
  }

  /** The finished map for the overlay, while it belongs to the picture on screen and was not dismissed. */
  get frame(): OverlayFrame | null {
    const r = this.result;
    if (!r || this.hidden || !this.page.source.showsPicture(r.imageId)) return null;
    return { heatmap: r.heatmap, region: r.region, sourceSize: r.sourceSize, captureTime: null, frame: -this.jobId };
  }

  get view(): PerturbationView {
    const { method, options, state, done, total, result, failure } = this;
    return { method, options, state, done, total, result, failure, shown: this.frame !== null };
  }

  /** "golden retriever 91% · Occlusion" over the picture while the map is shown; null otherwise. */
  label(): string | null {
    const r = this.result;
    if (!r || !this.frame) return null;
    return `${r.target.label} ${(r.target.score * 100).toFixed(0)}% · ${PERTURBATION_METHOD_NAMES[r.method]}`;
  }

  async perform(action: PerturbationAction): Promise<void> {
    if (action.op === 'run') await this.run();
    else if (action.op === 'cancel') this.cancel();
    else if (action.op === 'dismiss') this.dismiss();
    else this.change(action);
  }

  change(partial: { method?: PerturbationMethod; options?: Partial<PerturbationSettings> }): void {
    if (partial.method) this.method = partial.method;
    if (partial.options) this.options = { ...this.options, ...partial.options };
    this.host.requestUpdate();
  }

  /** Starts a run on the still picture (freezing the camera frame first); resolves with how it ended. */
  async run(request?: {
    method?: PerturbationMethod;
    options?: Partial<PerturbationSettings>;
  }): Promise<PerturbationState> {
    if (request) this.change(request);
    if (this.state === 'running') {
      this.cancel();
      this.finish('cancelled', null);
    }
    const held = await this.page.source.holdPicture();
    const jobId = ++this.jobId;
    this.done = 0;
    this.total = 0;
    this.failure = null;
    this.hidden = true;
    const ended = new Promise<PerturbationState>((resolve) => this.waiters.push(resolve));
    if (held === 'none') {
      this.finish('failed', msg('Open a photo or start the camera first: occlusion and LIME explain a still picture.'));
      return ended;
    }
    if (held === 'frozen') this.notices.show(NOTICES.frozenForSlowMethod());
    this.state = 'running';
    const message: PerturbMessage = {
      type: 'perturb',
      jobId,
      method: this.method,
      classIndex: this.page.classIndex(),
      options: { ...this.options },
    };
    this.page.send(message);
    this.host.requestUpdate();
    return ended;
  }

  /** The worker was restarted: a running job is lost with it. */
  restarted(): void {
    if (this.state === 'running') this.finish('failed', msg('The explanation worker was restarted; start again.'));
  }

  /** Asks the worker to stop the running job; it answers `cancelled`. */
  cancel(): void {
    if (this.state === 'running') this.page.send({ type: 'perturb-cancel', jobId: this.jobId });
  }

  /** Hides the finished map (the settings or the picture changed): the gradient map shows again. */
  dismiss(): void {
    if (this.hidden) return;
    this.hidden = true;
    this.host.requestUpdate();
  }

  onMessage(m: PerturbationMessage): void {
    if (m.jobId !== this.jobId || this.state !== 'running') return;
    switch (m.state) {
      case 'progress':
        this.done = m.done;
        this.total = m.total;
        this.host.requestUpdate();
        return;
      case 'done':
        this.result = m.result;
        this.done = this.total = Math.max(this.total, 1);
        this.hidden = false;
        return this.finish('done', null);
      case 'cancelled':
        return this.finish('cancelled', null);
      case 'failed':
        return this.finish('failed', m.hint ? `${m.message} ${m.hint}` : m.message);
    }
  }

  private finish(state: PerturbationState, failure: string | null): void {
    this.state = state;
    this.failure = failure;
    for (const resolve of this.waiters.splice(0)) resolve(state);
    this.host.requestUpdate();
  }
}

import { msg } from '@lit/localize';
import { html, type TemplateResult } from 'lit';
import type { ReadyMessage, ResultMessage } from '../protocol.js';
import { type Pairing, pairing } from './controllers/comparison.js';
import type { LessonController } from './controllers/lessons.js';
import type { ModelLibraryController } from './controllers/model-library.js';
import type { PerturbationAction, PerturbationController } from './controllers/perturbation.js';
import type { SourceController } from './controllers/source.js';
import type { TeachController } from './controllers/teach.js';
import type { AppSettings } from './settings.js';
import type { Action } from './shortcuts.js';
import type { HudFigures } from './hud.js';
import type { TeachAction } from './teach-types.js';

/** One empty list for every render without a model summary: a new one each time would re-render the panel. */
const NO_SUMMARY: readonly string[] = [];

/** What the side panels show (properties down). */
interface AsideState {
  settings: AppSettings;
  ready: ReadyMessage | null;
  latest: ResultMessage | null;
  figures: HudFigures | null;
  source: SourceController;
  perturbation: PerturbationController;
  teach: TeachController;
  library: ModelLibraryController;
  lessons: LessonController;
}

/** What the side panels ask for (events up). */
interface AsideEvents {
  apply(partial: Partial<AppSettings>): void;
  perform(action: Action): void;
  teachAction(action: TeachAction): void;
}

const NONE: readonly never[] = [];

/** The app's side panels: predictions, explanation settings, occlusion and LIME, teaching, performance. */
export function appAside(a: AsideState, on: AsideEvents): TemplateResult {
  const { settings: s, ready, latest: r, source } = a;
  type Picked = CustomEvent<{ classIndex: number | null }>;
  return html`<aside>
          <section>
            <h2>${msg('Prediction')}</h2>
            <whycam-predictions .predictions=${r?.predictions ?? []} .pinned=${s.classIndex}
              .pinnedLabel=${s.classIndex === null ? '' : (ready?.labels[s.classIndex] ?? '')}
              @pin=${(e: Picked) => on.apply({ classIndex: e.detail.classIndex })} .contrast=${s.contrastClass}
              @contrast=${(e: Picked) => on.apply({ contrastClass: e.detail.classIndex })}></whycam-predictions>
          </section>
          <section>
            <h2>${msg('Lessons')}</h2>
            <whycam-lesson-menu .lessons=${a.lessons} .revision=${a.lessons.revision}></whycam-lesson-menu>
          </section>
          <section>
            <h2>${msg('Explanation')}</h2>
            <whycam-controls .settings=${s} .scrambleBlocks=${ready?.scrambleBlocks ?? NONE} .labels=${ready?.labels ?? NONE} .stored=${a.library.stored} .layers=${ready?.layers ?? NONE} .camLayer=${ready?.camLayer ?? null}
              .resolvedLayer=${r?.layer ?? ''} .cameras=${source.camera.cameras} .cameraId=${source.camera.cameraId} .mode=${source.mode} ?frozen=${source.frozen}
              @settings-change=${(e: CustomEvent<Partial<AppSettings>>) => on.apply(e.detail)}
              @action=${(e: CustomEvent<{ action: Action }>) => on.perform(e.detail.action)}
              @camera-change=${(e: CustomEvent<{ camera: string }>) => void source.useCamera(e.detail.camera)}
              @compare-pairing=${(e: CustomEvent<{ pairing: Pairing }>) => on.apply({ compare: pairing(e.detail.pairing, s, ready, r?.predictions ?? []) })}></whycam-controls>
          </section>
          <section>
            <h2>${msg('Occlusion and LIME')}</h2>
            <whycam-perturbation-panel .view=${a.perturbation.view} ?live=${source.mode === 'camera' && !source.frozen}
              @perturbation-action=${(e: CustomEvent<PerturbationAction>) => void a.perturbation.perform(e.detail)}></whycam-perturbation-panel>
          </section>
          <section>
            <h2>${msg('Teach')}</h2>
            <whycam-teach-panel .teach=${a.teach} .stored=${a.library.stored} .revision=${a.teach.revision} .model=${s.model} .methodNotes=${ready?.methodNotes ?? null} .modelSummary=${ready?.modelSummary ?? NO_SUMMARY}
              @teach-action=${(e: CustomEvent<TeachAction>) => on.teachAction(e.detail)}></whycam-teach-panel>
          </section>
          <section>
            <h2>${msg('Performance')}</h2>
            <whycam-hud .figures=${a.figures}></whycam-hud>
          </section>
        </aside>`;
}

import type { ReactiveController, ReactiveControllerHost } from 'lit';
import { findModel, MODELS } from '../../../models/registry.js';
import { METHODS } from '../../explain/methods/names.js';
import { isNormalization, NORMALIZATIONS } from '../../explain/network/normalization.js';
import type { WhyCamApi, WhyCamLessonStep, WhyCamSet, WhyCamStatus, WhyCamTeachReport } from '../automation.js';
import type { ReportHeatmap, TeachReport } from '../../explain/teach/teach-report.js';
import { isLang, LANGS } from '../i18n/choose-lang.js';
import { setLang } from '../i18n/locale.js';
import { storedModelName } from '../model-store.js';
import type { AppSettings } from '../settings.js';
import { checkClassroomSet } from './comparison.js';
import type { LessonController } from './lessons.js';
import type { ModelLibraryController } from './model-library.js';
import type { PerturbationController } from './perturbation.js';
import type { PwaController } from './pwa.js';
import type { SourceController } from './source.js';
import type { TeachController } from './teach.js';
import type { VideoTools } from './video-tools.js';
import { TrustController } from './trust.js';
import type { WorkerConnection } from './worker-connection.js';

/** The app's parts that the API drives. */
interface AutomationHost {
  status(): WhyCamStatus;
  save(): Promise<void>;
  apply(partial: Partial<AppSettings>): void;
  worker: WorkerConnection;
  source: SourceController;
  perturbation: PerturbationController;
  library: ModelLibraryController;
  teach: TeachController;
  pwa: PwaController;
  lessons: LessonController;
  tools: VideoTools;
}

/** `window.whycam`, the automation API: present while the app is on the page, and `set` checked before it applies. */
export class AutomationController implements ReactiveController {
  constructor(
    host: ReactiveControllerHost,
    private readonly page: AutomationHost,
  ) {
    host.addController(this);
  }

  hostConnected(): void {
    const { worker, source, perturbation, library, teach, pwa, lessons, tools } = this.page;
    const step = (): WhyCamLessonStep | null => lessonStepOf(lessons);
    const api: WhyCamApi = {
      status: () => this.page.status(),
      set: (partial) => this.set(partial),
      openImage: (blob) => source.openPicture(blob),
      useCamera: () => source.useCamera(),
      openVideo: (blob) =>
        source.openVideo(blob instanceof File ? blob : new File([blob], 'video', { type: blob.type })),
      playVideo: () => source.video.play(),
      pauseVideo: async () => void (await source.video.holdFrame()),
      seekVideo: (time) => source.video.seek(time),
      explainVideo: (options) => tools.clip.run(options),
      cancelExplainVideo: () => tools.clip.cancel(),
      startRecording: () => tools.recording.start(),
      stopRecording: () => tools.recording.stop(),
      save: () => this.page.save(),
      drill: (failure) => worker.send({ type: 'drill', failure }),
      checkForUpdate: () => pwa.checkForUpdate(),
      perturb: (request) => perturbation.run(request),
      cancelPerturbation: () => perturbation.cancel(),
      openModel: async (files, options = {}) => {
        const { normalize } = options;
        if (normalize !== undefined && !isNormalization(normalize))
          throw new Error(`Unknown normalize ${String(normalize)}; valid: ${NORMALIZATIONS.join(', ')}`);
        const m = await library.openModel(files, normalize ? { normalize } : {});
        return { model: m.model, labels: m.labels, modelName: m.modelName, summary: m.modelSummary };
      },
      teach: (spec) => teach.teach(spec),
      teachReport: () => reportOf(teach.report),
      lessons: () =>
        lessons.lessons.map((l) => ({
          ...{ id: l.id, title: l.title(), summary: l.summary() },
          steps: l.steps.map((s) => s.text().title),
        })),
      startLesson: async (id, at = 0) => (await lessons.start(id, at), step()!),
      lessonStep: step,
      nextStep: async () => ((await lessons.next()) ? step() : null),
      previousStep: async () => (lessons.step > 0 ? (await lessons.back(), step()) : null),
      keepOnBoard: async () => {
        const kept = await lessons.keep();
        return kept && { label: kept.label, score: kept.score, method: kept.method };
      },
      endLesson: () => lessons.end(),
    };
    window.whycam = api;
  }

  hostDisconnected(): void {
    delete window.whycam;
  }

  /** Applies settings from a script; throws, changing nothing, on one the app cannot take. */
  set(partial: WhyCamSet): void {
    const { frozen, lang, ...rest } = partial;
    const ready = this.page.worker.ready;
    const classes = ready?.labels.length || 1000;
    if (lang !== undefined && !isLang(lang))
      throw new Error(`Unknown lang ${String(lang)}; valid: ${LANGS.join(', ')}`);
    if (rest.method !== undefined && !METHODS.includes(rest.method))
      throw new Error(`Unknown method ${rest.method}; valid: ${METHODS.join(', ')}`);
    // A registered id (installed on the server or not: the worker says which) or a model kept on this device.
    if (rest.model !== undefined && !findModel(rest.model) && storedModelName(rest.model) === null)
      throw new Error(`Unknown model ${rest.model}; valid: ${MODELS.map((m) => m.id).join(', ')}, or stored:<name>`);
    if (
      rest.classIndex !== undefined &&
      rest.classIndex !== null &&
      !(rest.classIndex >= 0 && rest.classIndex < classes)
    )
      throw new Error('classIndex must be 0-999 or null');
    checkClassroomSet(rest, classes);
    TrustController.check(rest.scramble, ready);
    this.page.apply(rest);
    if (frozen !== undefined) void this.page.source.freeze(frozen);
    if (lang !== undefined) void setLang(lang);
  }
}

/** The report as plain numbers, for a script. */
function reportOf(r: TeachReport | null): WhyCamTeachReport | null {
  if (!r) return null;
  const plain = (m: ReportHeatmap) => ({ width: m.width, height: m.height, data: Array.from(m.data) });
  return {
    labels: r.labels,
    confusion: r.confusion.map((row) => [...row]),
    examples: r.examples.map((e) => ({
      trueClass: e.trueClass,
      predictedClass: e.predictedClass,
      score: e.score,
      index: e.index,
      heatmap: plain(e.heatmap),
      trueHeatmap: plain(e.trueHeatmap),
    })),
  };
}

function lessonStepOf(l: LessonController): WhyCamLessonStep | null {
  const { lesson, current } = l;
  if (!lesson || !current) return null;
  const { teach, frozen, occlusion, board, confusion } = current;
  return {
    ...{ lesson: lesson.id, title: lesson.title(), index: l.step, count: lesson.steps.length },
    text: current.text(),
    applied: l.applied,
    setup: Object.fromEntries(
      Object.entries({ teach, frozen, occlusion, board, confusion }).filter(([, v]) => v !== undefined),
    ),
    blocked: l.blocked,
    resumed: l.resumed,
    board: l.board.map((b) => ({ label: b.label, score: b.score, method: b.method })),
  };
}

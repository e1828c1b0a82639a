import { msg, str } from '@lit/localize';
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import { defaultView } from '../../../models/registry.js';
import type { TeachReport } from '../../explain/teach/teach-report.js';
import type { ReadyMessage, ResultMessage } from '../../protocol.js';
import type { OverlayStyle } from '../heatmap-renderer.js';
import { boardPicture } from '../snapshot.js';
import { findLesson, type Lesson, type LessonContext, type LessonStep, LESSONS } from '../lessons/lesson-plan.js';
import { type BoardPicture, type LessonProgress, loadProgress, saveProgress } from '../lessons/lesson-progress.js';
import type { LessonAction } from '../lessons/lesson-actions.js';
import type { AppSettings } from '../settings.js';

/** What a lesson drives: the settings, teach mode, the still picture and occlusion, and the view for the board. */
interface LessonHost {
  settings(): AppSettings;
  apply(partial: Partial<AppSettings>): void;
  connection: { readonly ready: ReadyMessage | null };
  explanation: { readonly latest: ResultMessage | null };
  teach: { open: boolean; report: TeachReport | null; toggle(on?: boolean): void };
  source: { mode: 'camera' | 'image' | 'video' | 'none'; frozen: boolean; freeze(on: boolean): Promise<void> };
  perturbing: { run(request: { method: 'occlusion' }): Promise<unknown> };
  /** The picture on the view, and how its map is drawn (for the board). */
  view(): { image: CanvasImageSource; width: number; height: number } | null | undefined;
  style(): OverlayStyle;
}

/** The most pictures a board keeps (the oldest go first). */
const BOARD_SIZE = 8;

/**
 * The lesson being taught: which step, setting the app up for it (again after a reload or a model
 * switch, for the model then in use), why a step cannot run as written, and the board of kept
 * pictures. Progress is kept on the device (local storage), so a lesson left is resumed.
 */
export class LessonController implements ReactiveController {
  lesson: Lesson | null = null;
  step = 0;
  board: BoardPicture[] = [];
  /** The settings the step applied last, for the model then in use (null before it was set up). */
  applied: Partial<AppSettings> | null = null;
  /** The lesson was picked up where it was left (after a reload). */
  resumed = false;
  private changes = 0;
  /** A step waits for the model to be ready before it applies its settings. */
  private pending = false;
  /** A model was taught while this lesson ran (the confusion step needs one). */
  private taughtHere = false;

  constructor(
    private readonly host: ReactiveControllerHost,
    private readonly page: LessonHost,
  ) {
    host.addController(this);
  }

  hostConnected(): void {
    const asked = new URLSearchParams(location.search).get('lesson');
    const kept = loadProgress();
    const lesson = asked !== null ? findLesson(asked) : kept ? findLesson(kept.id) : undefined;
    if (!lesson) return;
    this.lesson = lesson;
    // `?lesson=ID` of the lesson that was left resumes it; of another, starts it.
    const same = kept?.id === lesson.id;
    this.step = same ? Math.min(kept.step, lesson.steps.length - 1) : 0;
    this.board = same ? kept.board : [];
    this.resumed = same;
    this.pending = true;
    this.changed();
  }

  /** Why the step cannot run as written (the model lacks CAM, the taught examples are gone, no camera…), or null. */
  get blocked(): string | null {
    return this.current ? this.whyNot(this.current) : null;
  }

  /** Changes when what the panels show does (the controller is mutated in place, and the reasons change with the page). */
  get revision(): string {
    return `${this.changes}:${this.blocked ?? ''}`;
  }

  get current(): LessonStep | null {
    return this.lesson?.steps[this.step] ?? null;
  }

  get lessons(): readonly Lesson[] {
    return LESSONS;
  }

  /** Starts a lesson at its first step (or at `step`), replacing the one that ran. */
  async start(id: string, step = 0): Promise<void> {
    const lesson = findLesson(id);
    if (!lesson) throw new Error(`Unknown lesson ${id}; valid: ${LESSONS.map((l) => l.id).join(', ')}`);
    if (this.lesson?.id !== lesson.id) this.board = [];
    this.lesson = lesson;
    this.taughtHere = false;
    this.resumed = false;
    await this.goTo(step);
  }

  /** The next step; at the last one, nothing changes and false is returned. */
  async next(): Promise<boolean> {
    if (!this.lesson || this.step >= this.lesson.steps.length - 1) return false;
    await this.goTo(this.step + 1);
    return true;
  }

  async back(): Promise<void> {
    if (this.lesson && this.step > 0) await this.goTo(this.step - 1);
  }

  /** Leaves the lesson; its progress is forgotten (the board with it). */
  end(): void {
    this.lesson = null;
    this.board = [];
    this.pending = false;
    saveProgress(null);
    this.changed();
  }

  /** What a lesson panel asked for; failures (a lesson the page lacks) are the API's to report. */
  perform(a: LessonAction): void {
    const quietly = (p: Promise<unknown>): void => void p.catch(() => undefined);
    switch (a.op) {
      case 'start':
        return quietly(this.start(a.id));
      case 'next':
        return quietly(this.next());
      case 'back':
        return quietly(this.back());
      case 'keep':
        return quietly(this.keep());
      case 'print':
        return window.print();
      case 'end':
        return this.end();
    }
  }

  /** Keeps the view with its map on the board. */
  async keep(): Promise<BoardPicture | null> {
    if (!this.lesson) return null;
    const p = this.page;
    const picture = await boardPicture(p.view(), p.explanation.latest, p.style(), p.settings().mirror);
    if (!picture) return null;
    this.board = [...this.board, picture].slice(-BOARD_SIZE);
    this.persist();
    this.changed();
    return picture;
  }

  /** A model is ready (the first, a switch, a taught one, a restarted worker): the step is set up again for it. */
  modelReady(m: ReadyMessage): void {
    if (m.origin === 'taught') this.taughtHere = true;
    // The step set up again for this model; its occlusion run only when the step is entered (a
    // worker restarted during the run must not start it again, and again).
    if (this.lesson) void this.apply(this.pending);
  }

  private async goTo(step: number): Promise<void> {
    this.applied = null;
    this.step = Math.max(0, Math.min(step, this.lesson!.steps.length - 1));
    this.persist();
    await this.apply(true);
  }

  private async apply(entering: boolean): Promise<void> {
    const step = this.current;
    const ready = this.page.connection.ready;
    if (!step) return;
    if (!ready) {
      this.pending = true; // set up once the model is ready
      this.changed();
      return;
    }
    this.pending = false;
    const context: LessonContext = {
      defaultView: defaultView(this.page.settings().model),
      camLayer: ready.camLayer,
      scrambleBlocks: ready.scrambleBlocks,
      predictions: (this.page.explanation.latest?.predictions ?? []).map((p) => p.classIndex),
    };
    const settings = step.settings(context);
    if (settings.method === 'cam' && !ready.camLayer) Object.assign(settings, defaultView(ready.model));
    if (!(ready.scrambleBlocks.length > 0)) settings.scramble = 0;
    this.page.apply(settings);
    this.applied = settings;
    if (step.teach !== undefined && this.page.teach.open !== step.teach) this.page.teach.toggle(step.teach);
    if (step.frozen !== undefined && this.page.source.mode === 'camera') await this.page.source.freeze(step.frozen);
    this.changed();
    if (entering && step.occlusion && this.page.source.mode !== 'none')
      await this.page.perturbing.run({ method: 'occlusion' });
  }

  /** Why a step cannot run as written here, in a sentence for the class; null when it can. */
  private whyNot(step: LessonStep): string | null {
    const ready = this.page.connection.ready;
    if (step.needs === 'cam' && ready && !ready.camLayer)
      return msg(str`${ready.modelName} has no layer CAM applies to; the step shows the default view instead.`);
    if (step.needs === 'scramble' && ready && ready.scrambleBlocks.length === 0)
      return msg(str`${ready.modelName} cannot be scrambled; use one of the ImageNet models for this step.`);
    if (step.confusion && !(this.taughtHere && this.page.teach.report))
      return this.resumed
        ? msg(
            'The examples taught before the page was reloaded are gone (they are kept only in memory): go back to the first step and teach again.',
          )
        : msg('There is no taught model yet: go back a step and press Train.');
    if (this.page.source.mode === 'none')
      return msg(
        'There is no camera (it was refused or lost): start it again, or open a photo (o) and do the step with pictures.',
      );
    return null;
  }

  private persist(): void {
    const progress: LessonProgress | null = this.lesson
      ? { id: this.lesson.id, step: this.step, board: this.board }
      : null;
    saveProgress(progress);
  }

  private changed(): void {
    this.changes++;
    this.host.requestUpdate();
  }

  /** Whether the step waits for the model to be ready. */
  get waiting(): boolean {
    return this.pending;
  }
}

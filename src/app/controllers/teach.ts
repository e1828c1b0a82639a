import { msg, str } from '@lit/localize';
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import type { ClassReport } from '../../explain/models/taught-format.js';
import type { TeachReport } from '../../explain/teach/teach-report.js';
import type { FromWorker, TaughtMessage, TeachProgressMessage, ToWorker } from '../../protocol.js';
import type { WhyCamTeachResult } from '../automation.js';
import { storedModelId } from '../model-store.js';
import { encodeThumbnail, revokeThumbs, thumbnailBitmap } from '../teach-thumbnails.js';
import {
  type LibraryAction,
  MAX_CLASSES,
  MIN_CLASSES,
  type TeachAction,
  type TeachClass,
  type TeachExample,
  type TeachView,
} from '../teach-types.js';
import type { ModelLibraryController } from './model-library.js';
import type { NoticesController } from './notices.js';

/** Camera examples per second while the record button is held. */
const RECORD_PER_SECOND = 4;

interface TeachHost {
  send(message: ToWorker, transfer?: Transferable[]): void;
  video(): HTMLVideoElement | undefined;
  /** Whether the live view shows the camera (recording needs it). */
  cameraLive(): boolean;
}

interface Waiter<T> {
  resolve(value: T): void;
  reject(error: Error): void;
}

/**
 * Teach mode: the classes and their examples (recorded from the camera or added as photos, shown as
 * thumbnails), and training in the worker with its progress and held-back accuracy. The taught
 * model is kept on the device by the model library.
 */
export class TeachController implements ReactiveController, TeachView {
  open = false;
  classes: TeachClass[] = [];
  /** The class being recorded into while its button is held. */
  recording: number | null = null;
  progress: Omit<TeachProgressMessage, 'type'> | null = null;
  result: { name: string; accuracy: number | null; classes: ClassReport[]; trainMs: number } | null = null;
  /** The latest training's held-back examples: confusion matrix and maps (kept until the next training or a reset). */
  report: TeachReport | null = null;
  /** Counts changes, so that the panel (given this object) knows to render again. */
  revision = 0;
  private nextKey = 1;
  private nextExample = 1;
  private recorder = 0;
  private readonly examples = new Map<number, Waiter<void>>();
  private taught: TaughtMessage | null = null;

  constructor(
    private readonly host: ReactiveControllerHost,
    private readonly page: TeachHost,
    private readonly notices: NoticesController,
    private readonly library: ModelLibraryController,
  ) {
    host.addController(this);
  }

  hostDisconnected(): void {
    this.stopRecording();
  }

  toggle(on = !this.open): void {
    this.open = on;
    if (on && this.classes.length === 0) {
      this.addClass();
      this.addClass();
    }
    this.changed();
  }

  addClass(name = ''): TeachClass | null {
    if (this.classes.length >= MAX_CLASSES) return null;
    const key = this.nextKey++;
    const c: TeachClass = { key, name: name || msg(str`Class ${this.classes.length + 1}`), examples: [] };
    this.classes = [...this.classes, c];
    this.changed();
    return c;
  }

  removeClass(key: number): void {
    const c = this.classes.find((k) => k.key === key);
    if (!c || this.classes.length <= MIN_CLASSES) return;
    this.forget(c.examples);
    this.classes = this.classes.filter((k) => k.key !== key);
    this.changed();
  }

  rename(key: number, name: string): void {
    this.classes = this.classes.map((c) => (c.key === key ? { ...c, name } : c));
    this.changed();
  }

  removeExample(key: number, id: number): void {
    this.forget(this.classes.flatMap((c) => c.examples.filter((e) => e.id === id)));
    this.classes = this.classes.map((c) =>
      c.key === key ? { ...c, examples: c.examples.filter((e) => e.id !== id) } : c,
    );
    this.changed();
  }

  /** Forgets every class and example (in the worker too). */
  reset(): void {
    this.stopRecording();
    this.page.send({ type: 'teach-forget', exampleIds: 'all' });
    for (const c of this.classes) revokeThumbs(c.examples);
    for (const w of this.examples.values()) w.reject(new Error('teaching was reset'));
    this.examples.clear();
    this.classes = [];
    this.result = null;
    this.report = null;
    this.progress = null;
    this.changed();
  }

  /** Starts taking camera frames into the class, a few a second, until `stopRecording`. */
  startRecording(key: number): void {
    if (!this.page.cameraLive()) {
      this.notices.show({
        topic: 'teach',
        kind: 'info',
        message: msg('Recording needs the live camera.'),
        hint: msg('Start the camera, or add photos to the class instead.'),
        actions: [],
      });
      return;
    }
    this.stopRecording();
    this.recording = key;
    const take = (): void => {
      const video = this.page.video();
      if (video && video.readyState >= 2)
        void createImageBitmap(video)
          .then((b) => this.addBitmap(key, b))
          .catch(() => undefined);
    };
    take();
    this.recorder = window.setInterval(take, 1000 / RECORD_PER_SECOND);
    this.changed();
  }

  stopRecording(): void {
    clearInterval(this.recorder);
    this.recorder = 0;
    if (this.recording !== null) {
      this.recording = null;
      this.changed();
    }
  }

  /** Adds photos (opened, dropped or pasted) to a class; settles once the worker has their features. */
  async addPhotos(key: number, blobs: readonly Blob[]): Promise<void> {
    const taken: Promise<void>[] = [];
    for (const blob of blobs) {
      let bitmap: ImageBitmap;
      try {
        bitmap = await createImageBitmap(blob);
      } catch {
        this.notices.show({
          topic: 'teach',
          kind: 'error',
          message: msg('That file is not a picture this browser can read.'),
          hint: msg('Use a JPEG, PNG or WebP photo.'),
          actions: [],
        });
        continue;
      }
      taken.push(this.addBitmap(key, bitmap));
    }
    await Promise.all(taken);
  }

  /** Trains on the examples; settles once the live view uses the taught model. */
  async train(name = this.defaultName()): Promise<WhyCamTeachResult> {
    const trimmed = name.trim() || this.defaultName();
    const classes = this.classes.map((c) => ({
      name: c.name.trim(),
      exampleIds: c.examples.filter((e) => e.state === 'ok').map((e) => e.id),
    }));
    const id = storedModelId(trimmed);
    this.result = null;
    this.report = null;
    this.taught = null;
    this.progress = { stage: 'training', epoch: 0, epochs: 1, loss: NaN };
    this.changed();
    const ready = this.library.expect(id, async () => {
      const t = this.taught!;
      return {
        name: trimmed,
        origin: 'taught',
        labels: t.labels,
        savedAt: Date.now(),
        zip: new Blob([t.zip as Uint8Array<ArrayBuffer>], { type: 'application/zip' }),
      };
    });
    this.page.send({ type: 'teach-train', model: id, name: trimmed, classes });
    try {
      await ready;
    } finally {
      this.progress = null;
      this.changed();
    }
    const t = this.taught!;
    return { accuracy: t.accuracy, classes: t.classes, labels: t.labels, trainMs: t.trainMs, model: id };
  }

  /** `window.whycam.teach`: the classes and their photos, taught in one go. */
  async teach(spec: { name?: string; classes: { name: string; images: Blob[] }[] }): Promise<WhyCamTeachResult> {
    if (spec.classes.length < MIN_CLASSES || spec.classes.length > MAX_CLASSES)
      throw new Error(`teach() needs ${MIN_CLASSES} to ${MAX_CLASSES} classes`);
    this.reset();
    this.open = true;
    const made = spec.classes.map((c) => this.addClass(c.name)!);
    await Promise.all(spec.classes.map((c, i) => this.addPhotos(made[i]!.key, c.images)));
    return this.train(spec.name);
  }

  /** The thumbnail of an example still in the panel ('' when it has none or was removed). */
  thumbOf(exampleId: number): string {
    for (const c of this.classes) for (const e of c.examples) if (e.id === exampleId) return e.thumb;
    return '';
  }

  /** What the teach panel asked for. */
  perform(a: Exclude<TeachAction, LibraryAction>): void {
    const quietly = (p: Promise<unknown>): void => void p.catch(() => undefined); // failures are shown as notices
    switch (a.op) {
      case 'toggle':
        return this.toggle();
      case 'add-class':
        this.addClass();
        return;
      case 'remove-class':
        return this.removeClass(a.key);
      case 'rename':
        return this.rename(a.key, a.name);
      case 'record':
        return a.on ? this.startRecording(a.key) : this.stopRecording();
      case 'photos':
        return quietly(this.addPhotos(a.key, a.files));
      case 'remove-example':
        return this.removeExample(a.key, a.id);
      case 'train':
        return quietly(this.train(a.name));
      case 'reset':
        this.reset();
        this.toggle(true);
        return;
    }
  }

  /** The worker's teaching messages; returns false for messages that are not about them. */
  onMessage(m: FromWorker): boolean {
    switch (m.type) {
      case 'teach-example': {
        const waiter = this.examples.get(m.exampleId);
        this.examples.delete(m.exampleId);
        this.classes = this.classes.map((c) => ({
          ...c,
          examples: c.examples.map((e) => (e.id === m.exampleId ? { ...e, state: m.ok ? 'ok' : 'failed' } : e)),
        }));
        if (!m.ok)
          this.notices.show({
            topic: 'teach',
            kind: 'error',
            message: msg(str`An example could not be used: ${m.message ?? ''}`),
            hint: '',
            actions: [],
          });
        waiter?.resolve();
        break;
      }
      case 'teach-progress':
        this.progress = { stage: m.stage, epoch: m.epoch, epochs: m.epochs, loss: m.loss };
        break;
      case 'taught':
        this.taught = m;
        this.result = { name: m.name, accuracy: m.accuracy, classes: m.classes, trainMs: m.trainMs };
        this.report = m.report;
        break;
      default:
        return false;
    }
    this.changed();
    return true;
  }

  /**
   * Shows the example at once (its thumbnail follows) and hands the bitmap to the worker. Nothing
   * here blocks the page: the thumbnail is cropped and scaled by createImageBitmap and encoded by
   * OffscreenCanvas.convertToBlob, both asynchronous, and the bitmap is transferred, not copied.
   */
  private async addBitmap(key: number, bitmap: ImageBitmap): Promise<void> {
    const id = this.nextExample++;
    this.classes = this.classes.map((c) =>
      c.key === key ? { ...c, examples: [...c.examples, { id, thumb: '', state: 'pending' }] } : c,
    );
    this.changed();
    let small: ImageBitmap | null = null;
    try {
      small = await thumbnailBitmap(bitmap);
    } catch {
      // No thumbnail (the example still counts): the panel shows an empty square.
    }
    const taken = new Promise<void>((resolve, reject) => this.examples.set(id, { resolve, reject }));
    this.page.send({ type: 'teach-example', exampleId: id, bitmap }, [bitmap]);
    if (small)
      void encodeThumbnail(small)
        .then((url) => this.setThumb(id, url))
        .catch(() => undefined);
    return taken;
  }

  private setThumb(id: number, url: string): void {
    if (!this.classes.some((c) => c.examples.some((e) => e.id === id))) {
      URL.revokeObjectURL(url); // removed meanwhile
      return;
    }
    this.classes = this.classes.map((c) =>
      c.examples.some((e) => e.id === id)
        ? { ...c, examples: c.examples.map((e) => (e.id === id ? { ...e, thumb: url } : e)) }
        : c,
    );
    this.changed();
  }

  private forget(examples: readonly TeachExample[]): void {
    if (examples.length === 0) return;
    revokeThumbs(examples);
    this.page.send({ type: 'teach-forget', exampleIds: examples.map((e) => e.id) });
  }

  private defaultName(): string {
    return this.classes.map((c) => c.name.trim()).join(' · ');
  }

  private changed(): void {
    this.revision++;
    this.host.requestUpdate();
  }
}

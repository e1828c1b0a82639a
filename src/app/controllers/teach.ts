import { msg, str } from '@lit/localize';
import { unzipSync, zipSync } from 'fflate';
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import { DEFAULT_MODEL_ID, defaultView, findModel } from '../../../models/registry.js';
import type { ClassReport } from '../../explain/models/taught-format.js';
import type {
  FromWorker,
  ModelFailedMessage,
  ReadyMessage,
  TaughtMessage,
  TeachProgressMessage,
  ToWorker,
} from '../../protocol.js';
import type { WhyCamTeachResult } from '../automation.js';
import type { AppSettings } from '../settings.js';
import type { TeachAction } from '../teach-panel.js';
import { modelStore, type StoredModel, storedModelId, storedModelName } from '../model-store.js';
import type { NoticesController } from './notices.js';

export const MIN_CLASSES = 2;
export const MAX_CLASSES = 8;
/** Camera examples per second while the record button is held. */
const RECORD_PER_SECOND = 4;
const THUMB_SIZE = 56;

export interface TeachExample {
  id: number;
  /**
   * A small picture of the example (a blob: URL, '' until it is encoded); the example itself lives
   * only in the worker, as features.
   */
  thumb: string;
  state: 'pending' | 'ok' | 'failed';
}

export interface TeachClass {
  key: number;
  name: string;
  examples: TeachExample[];
}

export interface TeachHost {
  send(message: ToWorker, transfer?: Transferable[]): void;
  video(): HTMLVideoElement | undefined;
  /** Whether the live view shows the camera (recording needs it). */
  cameraLive(): boolean;
  /** The model to use from now on (its id: a registered id, or a stored model's). */
  useModel(id: string): void;
}

interface Waiter<T> {
  resolve(value: T): void;
  reject(error: Error): void;
}

/**
 * Teach mode and the models kept on this device: the classes and their examples (recorded from
 * the camera or added as photos), training in the worker with its progress and held-back accuracy,
 * and the taught and opened models stored in IndexedDB, exported and imported as zip files.
 */
export class TeachController implements ReactiveController {
  open = false;
  classes: TeachClass[] = [];
  /** The class being recorded into while its button is held. */
  recording: number | null = null;
  progress: Omit<TeachProgressMessage, 'type'> | null = null;
  result: { name: string; accuracy: number | null; classes: ClassReport[]; trainMs: number } | null = null;
  stored: Omit<StoredModel, 'zip'>[] = [];
  /** Counts changes, so that the panel (given this object) knows to render again. */
  revision = 0;
  private nextKey = 1;
  private nextExample = 1;
  private recorder = 0;
  private readonly examples = new Map<number, Waiter<void>>();
  /** Opening or teaching a model: settled when the worker is ready with it, or says why it failed. */
  private pendingModel: { id: string; waiter: Waiter<ReadyMessage>; save: (() => Promise<StoredModel>) | null } | null =
    null;
  private taught: TaughtMessage | null = null;

  constructor(
    private readonly host: ReactiveControllerHost,
    private readonly page: TeachHost,
    private readonly notices: NoticesController,
  ) {
    host.addController(this);
  }

  hostConnected(): void {
    void this.refreshStored();
  }

  hostDisconnected(): void {
    this.stopRecording();
  }

  /** Registered models go to the worker by id; a stored model starts from the default and is reopened once ready. */
  static registeredOrDefault(id: string): string {
    return findModel(id) ? id : DEFAULT_MODEL_ID;
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
    this.taught = null;
    this.progress = { stage: 'training', epoch: 0, epochs: 1, loss: NaN };
    this.changed();
    const ready = this.expectModel(id, async () => {
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
    await ready;
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

  /** Opens a Teachable Machine export or an exported taught model; it is kept on this device once it works. */
  async openModel(files: readonly File[]): Promise<ReadyMessage> {
    let name: string;
    try {
      name = await modelNameOf(files);
    } catch (e) {
      const error = e instanceof Error ? e : new Error(String(e));
      this.notices.show({
        topic: 'model-files',
        kind: 'error',
        message: error.message,
        hint: THREE_FILES(),
        actions: [],
      });
      throw error;
    }
    const id = storedModelId(name);
    const ready = this.expectModel(id, async () => {
      const zip = files.length === 1 && /\.zip$/i.test(files[0]!.name) ? files[0]! : await zipFiles(files);
      const taught = await isTaughtZip(zip);
      return { name, origin: taught ? 'taught' : 'teachable-machine', labels: [], savedAt: Date.now(), zip };
    });
    this.page.send({ type: 'open-model', model: id, files: [...files] });
    return ready;
  }

  /** Uses a model kept on this device (picked in the model menu, or after a worker restart). */
  async useStored(id: string): Promise<void> {
    const name = storedModelName(id);
    const model = name === null ? undefined : await modelStore.get(name);
    if (!model) {
      this.notices.show({
        topic: 'model-files',
        kind: 'error',
        message: msg(str`No model called "${name ?? id}" is kept on this device.`),
        hint: '',
        actions: [],
      });
      this.page.useModel(DEFAULT_MODEL_ID);
      return;
    }
    const ready = this.expectModel(id, null);
    this.page.send({
      type: 'open-model',
      model: id,
      files: [new File([model.zip], `${model.name}.zip`, { type: 'application/zip' })],
    });
    await ready.catch(() => undefined);
  }

  async deleteStored(name: string, inUse: boolean): Promise<void> {
    await modelStore.remove(name);
    if (inUse) this.page.useModel(DEFAULT_MODEL_ID);
    await this.refreshStored();
  }

  /** Downloads a kept model as its zip (the three files; no examples). */
  async exportStored(name: string): Promise<void> {
    const model = await modelStore.get(name);
    if (!model) return;
    const url = URL.createObjectURL(model.zip);
    const a = document.createElement('a');
    a.href = url;
    a.download = `${name.replace(/[^\p{L}\p{N}._ -]+/gu, '_')}.zip`;
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  }

  /** What the teach panel asked for. */
  perform(a: TeachAction, modelInUse: string): void {
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
      case 'open-files':
        return quietly(this.openModel(a.files));
      case 'use':
        return this.page.useModel(storedModelId(a.name));
      case 'export':
        return quietly(this.exportStored(a.name));
      case 'delete':
        return quietly(this.deleteStored(a.name, modelInUse === storedModelId(a.name)));
    }
  }

  /** The worker's teaching and model messages; returns false for messages that are not about them. */
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
        break;
      case 'model-failed':
        this.failed(m);
        break;
      default:
        return false;
    }
    this.changed();
    return true;
  }

  /** The worker is ready with a model: settles an open or a teaching run, and keeps the model on the device. */
  onReady(m: ReadyMessage): void {
    const pending = this.pendingModel;
    if (!pending || pending.id !== m.model) return;
    this.pendingModel = null;
    if (m.origin === 'taught' && this.progress) this.progress = null;
    this.notices.drop('model-files');
    const save = pending.save;
    void (async () => {
      if (save) {
        const model = await save();
        await modelStore.save({ ...model, labels: m.labels });
        await this.refreshStored();
      }
      pending.waiter.resolve(m);
    })().catch((e: unknown) => {
      this.notices.show({
        topic: 'model-files',
        kind: 'error',
        message: msg('The model works but could not be kept on this device.'),
        hint: String(e),
        actions: [],
      });
      pending.waiter.resolve(m);
    });
  }

  private failed(m: ModelFailedMessage): void {
    if (m.during === 'teach') this.progress = null;
    this.notices.show({ topic: 'model-files', kind: 'error', message: m.message, hint: m.hint ?? '', actions: [] });
    const pending = this.pendingModel;
    if (pending?.id === m.model) {
      this.pendingModel = null;
      pending.waiter.reject(new Error(m.hint ? `${m.message} ${m.hint}` : m.message));
    }
  }

  private expectModel(id: string, save: (() => Promise<StoredModel>) | null): Promise<ReadyMessage> {
    this.pendingModel?.waiter.reject(new Error('another model was asked for'));
    return new Promise<ReadyMessage>((resolve, reject) => {
      this.pendingModel = { id, waiter: { resolve, reject }, save };
    });
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

  private async refreshStored(): Promise<void> {
    try {
      this.stored = (await modelStore.list()).map(({ name, origin, labels, savedAt }) => ({
        name,
        origin,
        labels,
        savedAt,
      }));
    } catch {
      this.stored = []; // no IndexedDB (private mode in some browsers): models are not kept
    }
    this.changed();
  }

  private changed(): void {
    this.revision++;
    this.host.requestUpdate();
  }
}

const THREE_FILES = (): string =>
  msg(
    'A Teachable Machine export is three files: model.json, weights.bin and metadata.json. Pick all three, or the zip they came in.',
  );

/** The picture's centre square, as the model sees it, scaled to a thumbnail (by the browser, asynchronously). */
function thumbnailBitmap(bitmap: ImageBitmap): Promise<ImageBitmap> {
  const side = Math.min(bitmap.width, bitmap.height);
  return createImageBitmap(bitmap, (bitmap.width - side) / 2, (bitmap.height - side) / 2, side, side, {
    resizeWidth: THUMB_SIZE,
    resizeHeight: THUMB_SIZE,
    resizeQuality: 'medium',
  });
}

/** The thumbnail as a small JPEG's blob: URL, encoded off the main thread. */
async function encodeThumbnail(small: ImageBitmap): Promise<string> {
  const canvas = new OffscreenCanvas(THUMB_SIZE, THUMB_SIZE);
  canvas.getContext('bitmaprenderer')!.transferFromImageBitmap(small); // takes (and closes) the bitmap
  return URL.createObjectURL(await canvas.convertToBlob({ type: 'image/jpeg', quality: 0.7 }));
}

function revokeThumbs(examples: readonly TeachExample[]): void {
  for (const e of examples) if (e.thumb) URL.revokeObjectURL(e.thumb);
}

/** The model's name from its metadata.json (in the picked files or the zip), to keep it under. */
async function modelNameOf(files: readonly File[]): Promise<string> {
  let bytes: Uint8Array | undefined;
  if (files.length === 1 && /\.zip$/i.test(files[0]!.name)) {
    const entries = unzipSync(new Uint8Array(await files[0]!.arrayBuffer()), {
      filter: (f) => f.name.split('/').pop() === 'metadata.json',
    });
    bytes = Object.values(entries)[0];
  } else {
    const file = files.find((f) => f.name.split(/[\\/]/).pop() === 'metadata.json');
    bytes = file ? new Uint8Array(await file.arrayBuffer()) : undefined;
  }
  if (!bytes) throw new Error(msg('The picked files have no metadata.json (it holds the class names).'));
  let name: unknown;
  try {
    name = (JSON.parse(new TextDecoder().decode(bytes)) as { modelName?: unknown }).modelName;
  } catch {
    throw new Error(msg('metadata.json is not valid JSON.'));
  }
  return typeof name === 'string' && name.trim() !== '' ? name.trim() : msg('Opened model');
}

/** The picked files as one zip, stored (not compressed: weights barely compress). */
async function zipFiles(files: readonly File[]): Promise<Blob> {
  const entries: Record<string, Uint8Array> = {};
  for (const f of files) entries[f.name.split(/[\\/]/).pop()!] = new Uint8Array(await f.arrayBuffer());
  return new Blob([zipSync(entries, { level: 0 }) as Uint8Array<ArrayBuffer>], { type: 'application/zip' });
}

async function isTaughtZip(zip: Blob): Promise<boolean> {
  const entries = unzipSync(new Uint8Array(await zip.arrayBuffer()), {
    filter: (f) => f.name.split('/').pop() === 'metadata.json',
  });
  const bytes = Object.values(entries)[0];
  return !!bytes && 'whycam' in (JSON.parse(new TextDecoder().decode(bytes)) as object);
}

/** Settings that the new model cannot honour (a layer it lacks, CAM without a linear head, a class it lacks), put back to what it can. */
export function settingsForModel(m: ReadyMessage, s: AppSettings): Partial<AppSettings> {
  const fix: Partial<AppSettings> = {};
  if (s.layer !== 'auto' && !m.layers.some((l) => l.name === s.layer)) fix.layer = defaultView(m.model).layer;
  if (s.method === 'cam' && !m.camLayer) fix.method = 'layercam';
  if (s.classIndex !== null && s.classIndex >= m.labels.length) fix.classIndex = null;
  return fix;
}

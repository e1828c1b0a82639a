import { msg, str } from '@lit/localize';
import { zipSync } from 'fflate';
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import { DEFAULT_MODEL_ID, defaultView, findModel } from '../../../models/registry.js';
import type { Normalization } from '../../explain/network/normalization.js';
import type { FromWorker, ModelDescribedMessage, ReadyMessage, ToWorker } from '../../protocol.js';
import type { AppSettings } from '../settings.js';
import { modelStore, type StoredModel, storedModelId, storedModelName } from '../model-store.js';
import type { LibraryAction, StoredSummary } from '../teach-types.js';
import type { NoticesController } from './notices.js';

interface LibraryHost {
  send(message: ToWorker, transfer?: Transferable[]): void;
  /** The model to use from now on (its id: a registered id, or a stored model's). */
  useModel(id: string): void;
  /** Has the worker load a registered model. */
  loadRegistered(id: string, displayName: string): void;
}

interface Waiter<T> {
  resolve(value: T): void;
  reject(error: Error): void;
}

type Described = Extract<ModelDescribedMessage, { ok: true }>;

/** How an own model is opened (`window.whycam.openModel(files, options)`). */
export interface OpenModelOptions {
  /** The own model's input normalisation; absent: assumed, and the summary says so. */
  normalize?: Normalization;
}

/**
 * The models kept on this device (IndexedDB): opening a Teachable Machine export, an exported
 * taught model or the user's own Keras model (the worker reads the files, the page only keeps
 * them), using, exporting and deleting kept ones, and keeping a model once the worker is ready with it.
 */
export class ModelLibraryController implements ReactiveController {
  stored: StoredSummary[] = [];
  /** Opening or teaching a model: settled when the worker is ready with it, or says why it failed. */
  private pending: { id: string; waiter: Waiter<ReadyMessage>; save: (() => Promise<StoredModel>) | null } | null =
    null;
  private readonly describing = new Map<number, Waiter<Described>>();
  private nextRequest = 1;

  constructor(
    private readonly host: ReactiveControllerHost,
    private readonly page: LibraryHost,
    private readonly notices: NoticesController,
  ) {
    host.addController(this);
  }

  hostConnected(): void {
    void this.refresh();
  }

  hostDisconnected(): void {
    for (const w of this.describing.values()) w.reject(new Error('the page was closed'));
    this.describing.clear();
  }

  /** Registered models go to the worker by id; a stored model starts from the default and is reopened once ready. */
  static registeredOrDefault(id: string): string {
    return findModel(id) ? id : DEFAULT_MODEL_ID;
  }

  /** Switches the worker to a model: a registered one by id, a kept one from its stored files. */
  use(id: string): void {
    // A failed switch's notice is about the model asked for before: this one gets its own answer.
    this.notices.drop('model-switch');
    if (storedModelName(id) !== null) void this.useStored(id);
    else this.page.loadRegistered(id, findModel(id)?.displayName ?? id);
  }

  /** A restarted worker forgot the files it was reading, and starts on a registered model: a kept one is opened again. */
  restarted(inUse: string): void {
    for (const w of this.describing.values()) w.reject(new Error('the worker was restarted'));
    this.describing.clear();
    if (storedModelName(inUse) !== null) void this.useStored(inUse);
  }

  /**
   * Opens a Teachable Machine export, an exported taught model or an own Keras model; it is kept on
   * this device once it works, with the normalisation it was opened with.
   */
  async openModel(files: readonly File[], options: OpenModelOptions = {}): Promise<ReadyMessage> {
    const { name, origin } = await this.describe(files);
    const id = storedModelId(name);
    const normalize = origin === 'keras' || origin === 'onnx' ? options.normalize : undefined;
    const ready = this.expect(id, async () => {
      const zip = files.length === 1 && /\.zip$/i.test(files[0]!.name) ? files[0]! : await zipFiles(files);
      return { name, origin, labels: [], savedAt: Date.now(), zip, ...(normalize ? { normalize } : {}) };
    });
    this.page.send({ type: 'open-model', model: id, files: [...files], ...(normalize ? { normalize } : {}) });
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
    const ready = this.expect(id, null);
    this.page.send({
      type: 'open-model',
      model: id,
      files: [new File([model.zip], `${model.name}.zip`, { type: 'application/zip' })],
      // An own model is read the way it was opened (absent: assumed again, as it was then).
      ...(model.normalize ? { normalize: model.normalize } : {}),
    });
    await ready.catch(() => undefined);
  }

  async deleteStored(name: string, inUse: boolean): Promise<void> {
    await modelStore.remove(name);
    if (inUse) this.page.useModel(DEFAULT_MODEL_ID);
    await this.refresh();
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

  /** What the teach panel asked for about kept models. */
  perform(a: LibraryAction, modelInUse: string): void {
    const quietly = (p: Promise<unknown>): void => void p.catch(() => undefined); // failures are shown as notices
    switch (a.op) {
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

  /**
   * Waits for the worker to be ready with model `id`; `save` gives what to keep on the device then
   * (null: it is kept already). Another model asked for meanwhile rejects the wait.
   */
  expect(id: string, save: (() => Promise<StoredModel>) | null): Promise<ReadyMessage> {
    this.pending?.waiter.reject(new Error('another model was asked for'));
    return new Promise<ReadyMessage>((resolve, reject) => {
      this.pending = { id, waiter: { resolve, reject }, save };
    });
  }

  /** The worker's answers about model files; returns false for other messages. */
  onMessage(m: FromWorker): boolean {
    if (m.type === 'model-described') {
      const waiter = this.describing.get(m.requestId);
      this.describing.delete(m.requestId);
      if (m.ok) waiter?.resolve(m);
      else {
        this.notices.show({ topic: 'model-files', kind: 'error', message: m.message, hint: m.hint ?? '', actions: [] });
        waiter?.reject(new Error(m.hint ? `${m.message} ${m.hint}` : m.message));
      }
      return true;
    }
    if (m.type !== 'model-failed') return false;
    // A registered model that could not be loaded (one this server lacks): the model in use stays.
    const topic = m.during === 'switch' ? 'model-switch' : 'model-files';
    this.notices.show({ topic, kind: 'error', message: m.message, hint: m.hint ?? '', actions: [] });
    const pending = this.pending;
    if (pending?.id === m.model) {
      this.pending = null;
      pending.waiter.reject(new Error(m.hint ? `${m.message} ${m.hint}` : m.message));
    }
    return true;
  }

  /** The worker is ready with a model: settles an open or a teaching run, and keeps the model on the device. */
  onReady(m: ReadyMessage): void {
    const pending = this.pending;
    if (!pending || pending.id !== m.model) return;
    this.pending = null;
    this.notices.drop('model-files');
    // An own model: what WhyCam recognised in it and what it assumed, for the user to check.
    if (m.modelSummary.length > 0) {
      this.notices.show({
        topic: 'model-files',
        kind: 'info',
        message: msg(
          str`Your own model "${m.modelName}" is in use. What WhyCam recognised in it, and what it assumed:`,
        ),
        hint: m.modelSummary.join('\n'),
        actions: [],
      });
    }
    const save = pending.save;
    void (async () => {
      if (save) {
        const model = await save();
        await modelStore.save({ ...model, labels: m.labels });
        await this.refresh();
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

  /** What the files are, as the worker reads them (their name and kind, or why they are not a model). */
  private describe(files: readonly File[]): Promise<Described> {
    const requestId = this.nextRequest++;
    const answer = new Promise<Described>((resolve, reject) => this.describing.set(requestId, { resolve, reject }));
    this.page.send({ type: 'describe-model', requestId, files: [...files] });
    return answer;
  }

  private async refresh(): Promise<void> {
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
    this.host.requestUpdate();
  }
}

/** The picked files as one zip, stored (not compressed: weights barely compress). */
async function zipFiles(files: readonly File[]): Promise<Blob> {
  const entries: Record<string, Uint8Array> = {};
  for (const f of files) entries[f.name.split(/[\\/]/).pop()!] = new Uint8Array(await f.arrayBuffer());
  return new Blob([zipSync(entries, { level: 0 }) as Uint8Array<ArrayBuffer>], { type: 'application/zip' });
}

/** Settings that the new model cannot honour (a layer it lacks, CAM without a linear head, a class it lacks), put back to what it can. */
export function settingsForModel(m: ReadyMessage, s: AppSettings): Partial<AppSettings> {
  const fix: Partial<AppSettings> = {};
  if (s.layer !== 'auto' && !m.layers.some((l) => l.name === s.layer)) fix.layer = defaultView(m.model).layer;
  if (s.method === 'cam' && !m.camLayer) fix.method = 'layercam';
  if (s.classIndex !== null && s.classIndex >= m.labels.length) fix.classIndex = null;
  return fix;
}

import { DEFAULT_MODEL_ID, findModel } from '../models/registry.js';
import type { Explainer } from '../src/explain/methods/explainer.js';
import type { TeachTrainMessage } from '../src/protocol.js';
import { describeError } from './error-report.js';
import type { ModelLifecycle } from './model-lifecycle.js';
import type { Post, ServiceRuntime } from './service-types.js';
import { Teacher } from './teacher.js';

/**
 * Teach mode in the worker: takes the examples' features, fits a head on them (frames keep being
 * explained meanwhile), hands the page the taught model's zip and makes it the model in use.
 */
export class Teaching {
  private teacher: Teacher | null = null;
  private training = false;

  constructor(
    private readonly post: Post,
    private readonly runtime: ServiceRuntime,
    private readonly models: ModelLifecycle,
  ) {
    // A model from files reopened after a lost GPU device: the teaching session's base lived on it too.
    models.lostFiles = () => this.teacher?.forget('all');
  }

  async example(exampleId: number, bitmap: ImageBitmap): Promise<void> {
    this.teacher ??= new Teacher(async () => {
      // The model in use if it is a registered Keras one (a taught model is saved as a Keras head
      // appended to its base's topology; a Caffe network has none), else the default.
      const current = this.models.init?.model;
      const entry = this.models.origin.kind === 'registered' && current ? findModel(current) : undefined;
      const id = entry?.format === 'tfjs-layers' ? entry.id : DEFAULT_MODEL_ID;
      this.post({ type: 'teach-progress', stage: 'base', epoch: 0, epochs: 0, loss: NaN });
      const base = this.models.init!.modelBaseUrl;
      const explainer = (await this.runtime.fetchExplainer(id, base, () => undefined)) as Explainer;
      return { id, explainer };
    });
    try {
      await this.teacher.add(exampleId, bitmap);
      this.post({ type: 'teach-example', exampleId, ok: true, message: null });
    } catch (e) {
      this.post({ type: 'teach-example', exampleId, ok: false, message: describeError(e, false).message });
    }
  }

  forget(exampleIds: number[] | 'all'): void {
    this.teacher?.forget(exampleIds);
  }

  /** Fits the head on the examples, then uses the taught model. */
  async train(message: TeachTrainMessage): Promise<void> {
    const refuse = (text: string): void => this.models.failed(message.model, 'teach', new Error(text));
    if (this.training) return refuse('A model is being taught already; wait for it to finish.');
    if (!this.teacher) return refuse('There are no examples to teach with.');
    this.training = true;
    try {
      const taught = await this.teacher.train(message.name, message.classes, (p) => {
        this.post({ type: 'teach-progress', stage: 'training', epoch: p.epoch, epochs: p.epochs, loss: p.loss });
      });
      const { head, zip, report } = taught;
      this.post({ type: 'teach-progress', stage: 'loading', epoch: head.epochs, epochs: head.epochs, loss: NaN });
      const file = new File([zip as Uint8Array<ArrayBuffer>], `${message.name}.zip`, { type: 'application/zip' });
      const copy = zip.slice();
      this.post(
        {
          type: 'taught',
          model: message.model,
          name: message.name,
          labels: head.labels,
          accuracy: head.accuracy,
          classes: head.classes,
          trainMs: head.trainMs,
          zip: copy,
          report,
        },
        // A right example's two maps are one: each buffer is transferred once.
        [copy.buffer, ...new Set(report.examples.flatMap((e) => [e.heatmap.data.buffer, e.trueHeatmap.data.buffer]))],
      );
      await this.models.openFiles(message.model, [file], 'teach');
    } catch (e) {
      this.models.failed(message.model, 'teach', e);
    } finally {
      this.training = false;
    }
  }
}

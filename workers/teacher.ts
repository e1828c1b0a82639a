import { WhyCamError } from '../src/explain/errors.js';
import type { Explainer } from '../src/explain/methods/explainer.js';
import {
  type EpochProgress,
  type ExampleFeatures,
  PooledFeatures,
  type TaughtHead,
  trainHead,
} from '../src/explain/teach/teach.js';
import { type TeachReport, teachReport } from '../src/explain/teach/teach-report.js';
import { taughtModelFiles, zipModelFiles } from '../src/explain/teach/taught-model-files.js';

/** A base model to teach on: a registered model's explainer, loaded for the teaching session. */
interface TeachBase {
  id: string;
  explainer: Explainer;
}

interface TaughtModel {
  head: TaughtHead;
  /** The portable form (model.json, weights.bin, metadata.json) in one zip. */
  zip: Uint8Array;
  /** The held-back examples: the confusion matrix and each one's maps. */
  report: TeachReport;
}

/**
 * The worker's teaching session: the examples' pooled features and the conv maps they pool (for the
 * held-back examples' CAMs; the pictures themselves are closed as soon as these are taken), and
 * the head fitted on them. The base network is
 * loaded once per session, on the first example, and kept until the session is forgotten.
 */
export class Teacher {
  private base: { id: string; features: PooledFeatures } | null = null;
  private loading: Promise<{ id: string; features: PooledFeatures }> | null = null;
  private readonly examples = new Map<number, ExampleFeatures>();

  constructor(private readonly loadBase: () => Promise<TeachBase>) {}

  get exampleCount(): number {
    return this.examples.size;
  }

  /** Takes one example's features; the bitmap is closed whatever happens. */
  async add(exampleId: number, bitmap: ImageBitmap): Promise<void> {
    try {
      const base = await this.ensureBase();
      this.examples.set(exampleId, await base.features.withMap(bitmap, 'center'));
    } finally {
      bitmap.close();
    }
  }

  forget(ids: number[] | 'all'): void {
    if (ids !== 'all') {
      for (const id of ids) this.examples.delete(id);
      return;
    }
    this.examples.clear();
    this.base?.features.base.dispose();
    this.base = null;
    this.loading = null;
  }

  /** Fits the head and packs it as a portable taught model named `name`. */
  async train(
    name: string,
    classes: readonly { name: string; exampleIds: readonly number[] }[],
    onEpoch: (p: EpochProgress) => void,
  ): Promise<TaughtModel> {
    const base = this.base;
    if (!base)
      throw new WhyCamError(
        'bad-option',
        'There are no examples to teach with.',
        'Record or add pictures for each class first.',
      );
    const missing = classes.flatMap((c) => c.exampleIds.filter((id) => !this.examples.has(id)));
    if (missing.length > 0)
      throw new WhyCamError(
        'bad-option',
        `${missing.length} examples were not taken yet (or failed).`,
        'Wait until every example is counted, then train again.',
      );
    const head = await trainHead(
      classes.map((c) => ({
        name: c.name.trim(),
        examples: c.exampleIds.map((id) => this.examples.get(id)!.pooled),
      })),
      { onEpoch },
    );
    const report = teachReport(
      head,
      classes.map((c) => c.exampleIds),
      (id) => this.examples.get(id)?.map,
    );
    const explainer = base.features.base;
    const files = taughtModelFiles(
      head,
      { id: base.id, pool: base.features.pool, inputSize: explainer.inputSize[0] },
      name,
    );
    return { head, zip: zipModelFiles(files), report };
  }

  private async ensureBase(): Promise<{ id: string; features: PooledFeatures }> {
    if (this.base) return this.base;
    this.loading ??= this.loadBase().then(({ id, explainer }) => {
      try {
        return (this.base = { id, features: new PooledFeatures(explainer) });
      } catch (e) {
        explainer.dispose();
        throw e;
      }
    });
    try {
      return await this.loading;
    } catch (e) {
      this.loading = null;
      throw e;
    }
  }
}

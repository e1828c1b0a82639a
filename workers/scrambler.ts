import { Explainer } from '../src/explain/methods/explainer.js';
import { cascadeBlocks, randomizedExplainer } from '../src/explain/evaluation/sanity.js';

/** The seed of the re-initialisation: the same number of blocks always gives the same scrambled network. */
const SCRAMBLE_SEED = 1;

/** An explainer the worker can scramble: a whole engine explainer (with its network), not a test's stand-in. */
export function isEngineExplainer(e: unknown): e is Explainer {
  return e instanceof Explainer;
}

/**
 * The live sanity check (Adebayo et al.'s cascading randomisation): holds the scrambled copy of the
 * model in use whose top N blocks are re-initialised. The real explainer is never modified: the copy
 * has weights of its own for the scrambled blocks and shares the others' read-only tensors, so
 * dropping it is all it takes to get the real network back. A copy that is replaced while a frame or
 * a job still runs on it is disposed when that work ends.
 */
export class Scrambler<E extends object> {
  private current: { base: E; count: number; explainer: Explainer } | null = null;
  private readonly retired: Explainer[] = [];
  private users = 0;

  /** The blocks that can be re-initialised, from the logits down; none for an explainer without a network. */
  static blocks(explainer: object | null): string[] {
    return isEngineExplainer(explainer) ? cascadeBlocks(explainer.network).map((b) => b.name) : [];
  }

  /** The explainer to explain with (the scrambled copy, or `real`) and how many blocks it has re-initialised. */
  active(real: E): { explainer: E | Explainer; scrambled: number } {
    const c = this.current;
    return c && c.base === real ? { explainer: c.explainer, scrambled: c.count } : { explainer: real, scrambled: 0 };
  }

  /**
   * Makes the copy match `count` blocks of `real` (clamped to the network's blocks; 0: no copy).
   * Throws when `count` > 0 and the explainer cannot be scrambled.
   */
  async update(real: E | null, count: number): Promise<void> {
    const blocks = Scrambler.blocks(real);
    const want = Math.max(0, Math.min(Math.floor(count), blocks.length));
    const c = this.current;
    if (c && c.base === real && c.count === want) return;
    this.current = null;
    if (c) this.retire(c.explainer);
    if (want === 0 || !real) {
      if (count > 0 && real && blocks.length === 0) throw new Error('This model cannot be scrambled.');
      return;
    }
    const copy = randomizedExplainer(real as unknown as Explainer, want, SCRAMBLE_SEED);
    if (this.current) {
      // Another update finished first: keep the newer one.
      copy.dispose();
      return;
    }
    this.current = { base: real, count: want, explainer: copy };
  }

  /** Runs `work`; copies replaced meanwhile are disposed only once no work is running. */
  async using<T>(work: () => Promise<T>): Promise<T> {
    this.users++;
    try {
      return await work();
    } finally {
      this.users--;
      if (this.users === 0) this.flush();
    }
  }

  /** Drops the copy (the model is going away, or the worker ends). */
  clear(): void {
    const c = this.current;
    this.current = null;
    if (c) this.retire(c.explainer);
  }

  private retire(explainer: Explainer): void {
    this.retired.push(explainer);
    if (this.users === 0) this.flush();
  }

  private flush(): void {
    for (const e of this.retired.splice(0)) {
      try {
        e.dispose();
      } catch {
        // Its tensors lived on a lost GPU device: nothing more to free.
      }
    }
  }
}

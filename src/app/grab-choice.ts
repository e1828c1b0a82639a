/** How many frames each way of grabbing is timed before one is chosen. */
const TRIALS = 3;
/** Failures in a row after which a way of grabbing is given up (another remaining). */
const GIVE_UP_AFTER = 3;

export interface GrabChoiceSummary<K extends string> {
  /** The way in use now (during the trials: the one tried next). */
  kind: K;
  /** Whether it was chosen by measurement (false: still trying, or the only way there is). */
  measured: boolean;
  /** Median cost per frame of each way tried (grab on the page + read in the worker), ms. */
  costs: Partial<Record<K, number>>;
  /** Ways given up because they failed here. */
  failed: K[];
}

/**
 * Chooses how camera frames are grabbed from the `<video>` by measuring, never by browser name:
 * each way is timed on its first frames — its grab on the page plus the worker's time to read the
 * pixels, the whole cost of one frame reaching the engine — and the cheapest is kept. In WebKitGTK
 * `createImageBitmap(video)` takes ~160 ms and `new VideoFrame(video)` 0.02 ms (read in the worker
 * with `copyTo` in ~1 ms); elsewhere the order may differ. A way that keeps failing (no
 * `VideoFrame` from a video, not transferable) is dropped.
 */
export class GrabChoice<K extends string> {
  private readonly samples = new Map<K, number[]>();
  private readonly failures = new Map<K, number>();
  private readonly givenUp = new Set<K>();
  private chosen: K | null = null;

  constructor(private readonly kinds: readonly K[]) {
    if (kinds.length === 0) throw new Error('GrabChoice needs at least one way to grab a frame');
    for (const k of kinds) this.samples.set(k, []);
    if (kinds.length === 1) this.chosen = kinds[0]!;
  }

  /** The way to grab the next frame. */
  next(): K {
    if (this.chosen !== null) return this.chosen;
    // Trials: the way least tried (failures count as tries, so a way that fails lets the next be tried).
    let next: K | null = null;
    let fewest = Infinity;
    for (const k of this.usable()) {
      const tried = this.samples.get(k)!.length;
      const score = tried + (this.failures.get(k) ?? 0);
      if (tried < TRIALS && score < fewest) {
        next = k;
        fewest = score;
      }
    }
    return next ?? this.decide();
  }

  /** A frame grabbed this way reached the engine: what it cost in all. */
  measured(kind: K, costMs: number): void {
    this.failures.set(kind, 0);
    const s = this.samples.get(kind);
    if (!s || s.length >= TRIALS) return;
    s.push(costMs);
    if (this.chosen === null && this.usable().every((k) => this.samples.get(k)!.length >= TRIALS)) this.decide();
  }

  /** Grabbing or sending this way failed. */
  failed(kind: K): void {
    const n = (this.failures.get(kind) ?? 0) + 1;
    this.failures.set(kind, n);
    // Only given up when another way has worked: while the video has no frame at all, every way fails.
    const anotherWorks = this.usable().some((k) => k !== kind && this.samples.get(k)!.length > 0);
    if (n < GIVE_UP_AFTER || !anotherWorks) return;
    this.givenUp.add(kind);
    if (this.chosen === kind) this.chosen = null;
    if (this.usable().length === 1) this.chosen = this.usable()[0]!;
  }

  summary(): GrabChoiceSummary<K> {
    const costs: Partial<Record<K, number>> = {};
    for (const [k, s] of this.samples) if (s.length) costs[k] = median(s);
    return {
      kind: this.next(),
      measured: this.chosen !== null && this.kinds.length - this.givenUp.size > 1,
      costs,
      failed: [...this.givenUp],
    };
  }

  private usable(): K[] {
    return this.kinds.filter((k) => !this.givenUp.has(k));
  }

  private decide(): K {
    const open = this.usable();
    let best = open[0]!;
    for (const k of open) if (median(this.samples.get(k)!) < median(this.samples.get(best)!)) best = k;
    this.chosen = best;
    return best;
  }
}

function median(values: readonly number[]): number {
  if (values.length === 0) return Infinity;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

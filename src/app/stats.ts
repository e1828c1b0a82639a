/** The p-th percentile (0–100) of the values by nearest rank; null when there are none. */
export function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** The last `size` samples of a measurement, for medians and tails. */
export class RollingSamples {
  private readonly values: number[] = [];

  constructor(private readonly size = 120) {}

  add(value: number): void {
    this.values.push(value);
    if (this.values.length > this.size) this.values.shift();
  }

  /** The p-th percentile (0–100) of the samples kept, by nearest rank; null when empty. */
  percentile(p: number): number | null {
    return percentile(this.values, p);
  }

  clear(): void {
    this.values.length = 0;
  }
}

/** Events per second over a sliding window of timestamps (ms). */
export class RateMeter {
  private readonly times: number[] = [];

  constructor(private readonly windowMs = 2000) {}

  tick(now: number): void {
    this.times.push(now);
    this.trim(now);
  }

  rate(now: number): number {
    this.trim(now);
    if (this.times.length < 2) return 0;
    const span = this.times[this.times.length - 1]! - this.times[0]!;
    return span > 0 ? ((this.times.length - 1) / span) * 1000 : 0;
  }

  clear(): void {
    this.times.length = 0;
  }

  private trim(now: number): void {
    while (this.times.length > 0 && now - this.times[0]! > this.windowMs) this.times.shift();
  }
}

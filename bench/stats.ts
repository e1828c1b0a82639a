import { percentile } from '../src/app/stats.js';

/** Median and 90th percentile (nearest rank) of a list of times; NaN when there are none. */
export function summarize(samples: readonly number[]): { medianMs: number; p90Ms: number; n: number } {
  return { medianMs: percentile(samples, 50) ?? NaN, p90Ms: percentile(samples, 90) ?? NaN, n: samples.length };
}

export interface BenchRow {
  backend: string;
  model: string;
  mode: string;
  medianMs: number;
  p90Ms: number;
  /** This mode's median over classify-only's, measured in the same run. */
  ratioToClassify: number;
  n: number;
  /** Kernels one frame runs (counted by bench/frame-probe.ts), when measured. */
  kernels?: number;
  /** Median time of each stage of a frame, when measured. */
  stages?: StageMedians;
  error?: string;
}

/**
 * Where a frame's time goes: turning the picture into the input tensor, encoding the kernels
 * (on WASM/CPU this includes running them), the GPU's own time from timestamp queries (null where
 * there are none), and waiting for the one read-back.
 */
export interface StageMedians {
  preprocessMs: number;
  encodeMs: number;
  gpuMs: number | null;
  readbackMs: number;
}

/** One frame's stage times, as measured. */
export type StageSample = Omit<StageMedians, 'gpuMs'>;

function stageMedians(samples: readonly StageSample[], gpuSamples: readonly number[]): StageMedians {
  const median = (xs: number[]): number => summarize(xs).medianMs;
  return {
    preprocessMs: median(samples.map((s) => s.preprocessMs)),
    encodeMs: median(samples.map((s) => s.encodeMs)),
    gpuMs: gpuSamples.length ? median([...gpuSamples]) : null,
    readbackMs: median(samples.map((s) => s.readbackMs)),
  };
}

export function markdownTable(rows: readonly BenchRow[]): string {
  const lines = [
    '| backend | model | mode | median ms | p90 ms | × classify | heatmaps/s | n |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const r of rows) {
    lines.push(
      r.error
        ? `| ${r.backend} | ${r.model} | ${r.mode} | failed: ${r.error.replace(/\|/g, '/').slice(0, 80)} | | | | |`
        : `| ${r.backend} | ${r.model} | ${r.mode} | ${r.medianMs.toFixed(1)} | ${r.p90Ms.toFixed(1)} | ${r.ratioToClassify.toFixed(2)} | ${(1000 / r.medianMs).toFixed(1)} | ${r.n} |`,
    );
  }
  return lines.join('\n');
}

/** Kernels and stage times per frame, one row per mode. */
export function stageTable(rows: readonly BenchRow[]): string {
  const f = (v: number | null | undefined): string =>
    v === null || v === undefined || Number.isNaN(v) ? '–' : v.toFixed(2);
  const lines = [
    '| backend | model | mode | kernels | preprocess ms | encode ms | GPU ms | read-back ms |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const r of rows) {
    if (r.error) continue;
    lines.push(
      `| ${r.backend} | ${r.model} | ${r.mode} | ${r.kernels ?? '–'} | ${f(r.stages?.preprocessMs)} | ${f(r.stages?.encodeMs)} | ${f(r.stages?.gpuMs)} | ${f(r.stages?.readbackMs)} |`,
    );
  }
  return lines.join('\n');
}

export interface RawResult {
  backend: string;
  model: string;
  mode: string;
  samplesMs: number[];
  stageSamples?: StageSample[];
  gpuSamplesMs?: number[];
  kernels?: number;
  error?: string;
}

export function toRows(results: readonly RawResult[]): BenchRow[] {
  return results.map((r) => {
    const s = summarize(r.samplesMs);
    const classify = results.find((c) => c.backend === r.backend && c.model === r.model && c.mode === 'classify');
    const reference = classify ? summarize(classify.samplesMs).medianMs : NaN;
    return {
      backend: r.backend,
      model: r.model,
      mode: r.mode,
      medianMs: s.medianMs,
      p90Ms: s.p90Ms,
      ratioToClassify: s.medianMs / reference,
      n: s.n,
      ...(r.kernels !== undefined ? { kernels: r.kernels } : {}),
      ...(r.stageSamples?.length ? { stages: stageMedians(r.stageSamples, r.gpuSamplesMs ?? []) } : {}),
      ...(r.error ? { error: r.error } : {}),
    };
  });
}

/**
 * One row per model: classify's median, every other mode as a ratio to it, and the kernels of
 * each mode per frame (in `modes` order) — the comparison across models in docs/benchmarks.md.
 * `views` names each model's view layer (what `gradcam14` and `layercam` ran at).
 */
export function modelTable(
  rows: readonly BenchRow[],
  modes: readonly string[],
  views: ReadonlyMap<string, string>,
): string {
  const others = modes.filter((m) => m !== 'classify');
  const lines = [
    `| backend | model | view layer | classify ms | ${others.map((m) => `${m} ×`).join(' | ')} | kernels (${modes.join(' / ')}) |`,
    `|${'---|'.repeat(4 + others.length + 1)}`,
  ];
  const models = [...new Set(rows.map((r) => `${r.backend}\u0000${r.model}`))];
  for (const key of models) {
    const [backend, model] = key.split('\u0000') as [string, string];
    const of = (mode: string): BenchRow | undefined =>
      rows.find((r) => r.backend === backend && r.model === model && r.mode === mode);
    const classify = of('classify');
    const ratio = (mode: string): string => {
      const r = of(mode);
      return !r ? '–' : r.error ? 'failed' : `${r.ratioToClassify.toFixed(2)}×`;
    };
    const kernels = modes.map((m) => of(m)?.kernels ?? '–').join(' / ');
    lines.push(
      `| ${backend} | ${model} | ${views.get(model) ?? '–'} | ${classify && !classify.error ? classify.medianMs.toFixed(1) : 'failed'} | ${others.map(ratio).join(' | ')} | ${kernels} |`,
    );
  }
  return lines.join('\n');
}

/** Median and 90th percentile (nearest rank) of a list of times. */
export function summarize(samples: readonly number[]): { medianMs: number; p90Ms: number; n: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (p: number): number => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
  return { medianMs: sorted.length ? at(0.5) : NaN, p90Ms: sorted.length ? at(0.9) : NaN, n: sorted.length };
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
  error?: string;
}

export function markdownTable(rows: readonly BenchRow[]): string {
  const lines = ['| backend | model | mode | median ms | p90 ms | × classify | heatmaps/s | n |', '|---|---|---|---|---|---|---|---|'];
  for (const r of rows) {
    lines.push(r.error
      ? `| ${r.backend} | ${r.model} | ${r.mode} | failed: ${r.error.replace(/\|/g, '/').slice(0, 80)} | | | | |`
      : `| ${r.backend} | ${r.model} | ${r.mode} | ${r.medianMs.toFixed(1)} | ${r.p90Ms.toFixed(1)} | ${r.ratioToClassify.toFixed(2)} | ${(1000 / r.medianMs).toFixed(1)} | ${r.n} |`);
  }
  return lines.join('\n');
}

export function toRows(results: readonly { backend: string; model: string; mode: string; samplesMs: number[]; error?: string }[]): BenchRow[] {
  return results.map((r) => {
    const s = summarize(r.samplesMs);
    const classify = results.find((c) => c.backend === r.backend && c.model === r.model && c.mode === 'classify');
    const reference = classify ? summarize(classify.samplesMs).medianMs : NaN;
    return { backend: r.backend, model: r.model, mode: r.mode, medianMs: s.medianMs, p90Ms: s.p90Ms, ratioToClassify: s.medianMs / reference, n: s.n, ...(r.error ? { error: r.error } : {}) };
  });
}

import type { Prediction } from '../../explain/methods/types.js';
import type { Region } from '../../explain/runtime/crop.js';

/** One explained frame of a clip. */
export interface ClipFrame {
  /** The frame's number in the clip (decode order of presentation), from 0. */
  index: number;
  /** Its presentation time and duration, s. */
  time: number;
  duration: number;
  predictions: Prediction[];
  target: Prediction;
  contrast: Prediction | null;
  heatmap: { width: number; height: number; data: Float32Array };
  region: Region;
}

/** What `explainVideo` resolves with, and what the timeline shows and the exports write. */
export interface ClipResult {
  file: string;
  model: string;
  method: string;
  reduction: string;
  layer: string;
  /** The pinned class, or null: each frame's top-1 was explained. */
  classIndex: number | null;
  contrastClass: number | null;
  /** Every n-th frame was explained. */
  every: number;
  /** Frames the decoder delivered (all of them, explained or not). */
  decodedFrames: number;
  /** The clip's duration, s. */
  duration: number;
  size: { width: number; height: number };
  frames: ClipFrame[];
  /** Stopped with Cancel before the end (the frames so far are kept). */
  cancelled: boolean;
  totalMs: number;
  /** Explained frames per second of wall time. */
  framesPerSecond: number;
  /** The clip with the overlay, label and title burned in (absent: not asked for, or `webmError` says why). */
  webm?: Blob;
  webmEncoder?: 'webcodecs' | 'mediarecorder';
  webmError?: string;
}

/** The per-frame data as JSON: predictions, target, method and heatmaps (as plain number arrays). */
export function clipJson(r: ClipResult): string {
  return JSON.stringify(
    {
      ...r,
      webm: undefined,
      frames: r.frames.map((f) => ({
        ...f,
        heatmap: { width: f.heatmap.width, height: f.heatmap.height, data: [...f.heatmap.data].map(round6) },
      })),
    },
    null,
    1,
  );
}

const CSV_TOP = 5;

/**
 * One row per explained frame: time, the explained class, the top five predictions, and the heatmap
 * (row-major, values separated by spaces, in one column).
 */
export function clipCsv(r: ClipResult): string {
  const head = ['frame', 'time_s', 'method', 'layer', 'target_class', 'target_label', 'target_score'];
  for (let k = 1; k <= CSV_TOP; k++) head.push(`top${k}_class`, `top${k}_label`, `top${k}_score`);
  head.push('heatmap_width', 'heatmap_height', 'heatmap');
  const rows = r.frames.map((f) => {
    const cells: (string | number)[] = [f.index, f.time.toFixed(4), r.method, r.layer];
    cells.push(f.target.classIndex, f.target.label, f.target.score.toFixed(6));
    for (let k = 0; k < CSV_TOP; k++) {
      const p = f.predictions[k];
      cells.push(p?.classIndex ?? '', p?.label ?? '', p ? p.score.toFixed(6) : '');
    }
    cells.push(f.heatmap.width, f.heatmap.height, [...f.heatmap.data].map(round6).join(' '));
    return cells.map(csvCell).join(',');
  });
  return [head.join(','), ...rows].join('\n') + '\n';
}

function round6(v: number): number {
  return Math.round(v * 1e6) / 1e6;
}

function csvCell(v: string | number): string {
  const s = String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** The classes to draw as lines: those with the highest mean score over the frames (a class absent from a frame's top list counts 0). */
export function topClasses(frames: ClipFrame[], count = 3): { classIndex: number; label: string }[] {
  const sums = new Map<number, { label: string; sum: number }>();
  for (const f of frames)
    for (const p of f.predictions) {
      const s = sums.get(p.classIndex) ?? { label: p.label, sum: 0 };
      s.sum += p.score;
      sums.set(p.classIndex, s);
    }
  return [...sums]
    .sort((a, b) => b[1].sum - a[1].sum)
    .slice(0, count)
    .map(([classIndex, s]) => ({ classIndex, label: s.label }));
}

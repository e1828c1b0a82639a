import type { BackendName } from '../../src/protocol.js';
import type { StageSample } from '../stats.js';

export type BenchMode = 'classify' | 'cam' | 'gradcam' | 'gradcam14' | 'gradcampp' | 'layercam' | 'baseline';
export const BENCH_MODES: readonly BenchMode[] = [
  'classify',
  'cam',
  'gradcam',
  'gradcam14',
  'gradcampp',
  'layercam',
  'baseline',
];

export interface MicroRequest {
  backend: BackendName;
  models: string[];
  /** The frame to explain, as a camera would deliver it. */
  bitmap: ImageBitmap;
  warmup: number;
  iterations: number;
  /** Stop starting new rounds after this long (SwiftShader backends take seconds per frame). */
  budgetMs: number;
}

export interface MicroResult {
  backend: BackendName;
  model: string;
  mode: BenchMode;
  samplesMs: number[];
  /** Each timed frame's stages (not for the baseline, which has none). */
  stageSamples?: StageSample[];
  /** GPU time per frame from timestamp queries, where the adapter has them. */
  gpuSamplesMs?: number[];
  /** Kernels one frame runs. */
  kernels?: number;
  error?: string;
}

export type MicroMessage =
  | { type: 'result'; result: MicroResult }
  | { type: 'done'; backendNotes: string[] }
  | { type: 'failed'; message: string };

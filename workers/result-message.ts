import * as tf from '@tensorflow/tfjs-core';
import type { Explanation } from '../src/explain/methods/types.js';
import { type BackendName, type ExplainSettings, type ResultMessage, wallClock } from '../src/protocol.js';

/** What a result answers, fixed when its picture was taken up (later changes do not relabel it). */
export interface ResultContext {
  source: ResultMessage['source'];
  request: number;
  model: string;
  settings: Pick<ExplainSettings, 'classIndex' | 'compare'>;
  captureTime: number | null;
  tookAt: number;
  /** How long the worker was idle before it took this camera frame (null: none before it in this session). */
  idleMs: number | null;
  skipped: number;
  scrambled: number;
  /** Time spent reading the picture's pixels before the engine got them (part of "frame → tensor"). */
  readMs: number;
}

/** The `result` message for one explained picture (the heatmaps' buffers are to be transferred). */
export function resultMessage(
  c: ResultContext,
  result: Explanation,
  second: Explanation | undefined,
  frame: number,
  backend: BackendName | null,
  openFrames: number,
): ResultMessage {
  return {
    type: 'result',
    source: c.source,
    request: c.request,
    model: c.model,
    frame,
    captureTime: c.captureTime,
    postTime: wallClock(),
    method: result.method,
    reduction: result.reduction,
    layer: result.layer,
    classIndex: c.settings.classIndex,
    predictions: result.predictions,
    target: prediction(result.target),
    contrast: result.contrast ? prediction(result.contrast) : null,
    heatmap: result.heatmap,
    compared: second
      ? {
          method: second.method,
          reduction: second.reduction,
          layer: second.layer,
          classIndex: c.settings.compare?.classIndex ?? c.settings.classIndex,
          target: prediction(second.target),
          contrast: second.contrast ? prediction(second.contrast) : null,
          heatmap: second.heatmap,
        }
      : null,
    scrambled: c.scrambled,
    region: result.region,
    sourceSize: result.source,
    timings: {
      ...result.timings,
      preprocessMs: result.timings.preprocessMs + c.readMs,
      waitMs: c.captureTime === null ? 0 : c.tookAt - c.captureTime,
      idleMs: c.idleMs,
    },
    skipped: c.skipped,
    numTensors: tf.memory().numTensors,
    memory: memory(backend),
    openFrames,
  };
}

function prediction(p: { classIndex: number; label: string; score: number }): ResultMessage['target'] {
  return { classIndex: p.classIndex, label: p.label, score: p.score };
}

function memory(backend: BackendName | null): ResultMessage['memory'] {
  const m = tf.memory() as tf.MemoryInfo & { numBytesInGPU?: number; numBytesInGPUAllocated?: number };
  const wasm =
    backend === 'wasm'
      ? ((tf.backend() as unknown as { wasm?: { HEAPU8?: Uint8Array } }).wasm?.HEAPU8?.byteLength ?? null)
      : null;
  return {
    tensorBytes: m.numBytes,
    gpuBytes: m.numBytesInGPUAllocated ?? m.numBytesInGPU ?? null,
    wasmHeapBytes: wasm,
  };
}

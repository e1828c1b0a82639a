/// <reference lib="webworker" />
import * as tf from '@tensorflow/tfjs-core';
import { defaultView } from '../../models/registry.js';
import type { Explainer } from '../../src/explain/methods/explainer.js';
import type { ExplainRequest, StageTimings } from '../../src/explain/methods/types.js';
import { chooseBackend } from '../../workers/backend-select.js';
import { countKernels, gpuTime } from '../frame-probe.js';
import { fetchExplainer } from '../../workers/model-loader.js';
import { PictureReader } from '../../workers/picture-reader.js';
import { BaselineGradCam } from './baseline.js';
import { type BenchMode, BENCH_MODES, type MicroMessage, type MicroRequest, type MicroResult } from './protocol.js';

declare const self: DedicatedWorkerGlobalScope;

// One backend per worker (backends sharing a page change each other's results). The modes are
// timed round-robin, so that every ratio compares frames taken under the same conditions.
self.onmessage = async (event: MessageEvent<MicroRequest>) => {
  const req = event.data;
  const post = (m: MicroMessage): void => self.postMessage(m);
  try {
    const choice = await chooseBackend(req.backend);
    for (const model of req.models) {
      const explainer = await fetchExplainer(model, `${location.origin}/models`, () => undefined);
      for (const result of await measure(explainer, model, defaultView(model).layer, req))
        post({ type: 'result', result });
      explainer.dispose();
    }
    post({ type: 'done', backendNotes: choice.notes });
  } catch (e) {
    post({ type: 'failed', message: (e as Error).message });
  }
};

function requestFor(mode: BenchMode, viewLayer: string): ExplainRequest | null {
  switch (mode) {
    case 'cam':
      return { method: 'cam' };
    case 'gradcam':
      return { method: 'gradcam' };
    case 'gradcam14':
      return { method: 'gradcam', layer: viewLayer };
    case 'gradcampp':
      return { method: 'gradcam++' };
    case 'layercam':
      return { method: 'layercam', layer: viewLayer };
    default:
      return null;
  }
}

async function measure(
  explainer: Explainer,
  model: string,
  viewLayer: string,
  req: MicroRequest,
): Promise<MicroResult[]> {
  const reader = new PictureReader();
  const results = new Map<BenchMode, MicroResult>(
    BENCH_MODES.map((mode) => [mode, { backend: req.backend, model, mode, samplesMs: [] }]),
  );
  let baseline: BaselineGradCam | undefined;
  try {
    // The baseline runs tfjs-layers' own model, which only Keras-imported networks keep, and is
    // written for MobileNet ([-1, 1] pixels at 224, the conv_preds classifier): other models skip it.
    const source = (explainer.network.graph as { sourceModel?: ConstructorParameters<typeof BaselineGradCam>[0] })
      .sourceModel;
    if (!source) throw new Error('skipped: the baseline needs a Keras model');
    if (!source.layers.some((l) => l.name === 'conv_preds')) throw new Error('skipped: the baseline is MobileNet-only');
    baseline = new BaselineGradCam(source, explainer.lastConvLayer, 'conv_preds');
  } catch (e) {
    results.get('baseline')!.error = (e as Error).message;
  }
  const once = async (mode: BenchMode): Promise<StageTimings | null> => {
    // A fresh VideoFrame each time, as the camera delivers them, through the worker's own conversion path.
    const frame = new VideoFrame(req.bitmap, { timestamp: 0 });
    try {
      if (mode === 'baseline') {
        const pixels = tf.browser.fromPixels(req.bitmap);
        try {
          await baseline!.run(pixels, req.bitmap.width, req.bitmap.height);
        } finally {
          pixels.dispose();
        }
        return null;
      }
      const input = await reader.read(frame, req.backend);
      try {
        const request = requestFor(mode, viewLayer);
        if (request) return (await explainer.explain(input, { ...request, crop: 'center' })).timings;
        return (await explainer.classify(input, { crop: 'center' })).timings;
      } finally {
        reader.release(input, frame);
      }
    } finally {
      frame.close();
    }
  };
  const start = performance.now();
  for (let round = -req.warmup; round < req.iterations && performance.now() - start < req.budgetMs; round++) {
    for (const [mode, result] of results) {
      if (result.error) continue;
      const t0 = performance.now();
      let t: StageTimings | null;
      try {
        t = await once(mode);
      } catch (e) {
        result.error = (e as Error).message;
        continue;
      }
      if (round < 0) continue;
      result.samplesMs.push(performance.now() - t0);
      if (t)
        (result.stageSamples ??= []).push({
          preprocessMs: t.preprocessMs,
          encodeMs: t.forwardMs + t.heatmapMs,
          readbackMs: t.readbackMs,
        });
    }
  }
  // Kernel counting and GPU timing hook every kernel: done apart from the timed frames.
  for (const [mode, result] of results) {
    if (result.error || mode === 'baseline') continue;
    result.kernels = (await countKernels(() => once(mode))).kernels;
    for (let k = 0; k < 3; k++) {
      const ms = await gpuTime(() => once(mode));
      if (ms === null) break;
      (result.gpuSamplesMs ??= []).push(ms);
    }
  }
  baseline?.dispose();
  return [...results.values()];
}

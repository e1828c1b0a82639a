/// <reference lib="webworker" />
import * as tf from '@tensorflow/tfjs-core';
import { findModel } from '../../models/registry.js';
import type { Explainer, ExplainRequest } from '../../src/explain/explainer.js';
import { chooseBackend } from '../../workers/backend-select.js';
import { loadExplainer } from '../../workers/model-loader.js';
import { BaselineGradCam } from './baseline.js';
import { type BenchMode, BENCH_MODES, type MicroMessage, type MicroRequest } from './protocol.js';

declare const self: DedicatedWorkerGlobalScope;

// One backend per worker (backends sharing a page change each other's results): for each model
// and mode, a few warm-up frames, then timed frames, each from camera-like input to read-back.
self.onmessage = async (event: MessageEvent<MicroRequest>) => {
  const req = event.data;
  const post = (m: MicroMessage): void => self.postMessage(m);
  try {
    const choice = await chooseBackend(req.backend);
    for (const model of req.models) {
      const explainer = await loadExplainer(model, `${location.origin}/models`, () => undefined);
      const view = findModel(model)!.viewLayer;
      for (const mode of BENCH_MODES) {
        post({ type: 'result', result: await measure(explainer, model, mode, view, req) });
      }
      explainer.dispose();
    }
    post({ type: 'done', backendNotes: choice.notes });
  } catch (e) {
    post({ type: 'failed', message: (e as Error).message });
  }
};

function requestFor(mode: BenchMode, viewLayer: string): ExplainRequest | null {
  switch (mode) {
    case 'cam': return { method: 'cam' };
    case 'gradcam': return { method: 'gradcam' };
    case 'gradcam14': return { method: 'gradcam', layer: viewLayer };
    case 'gradcampp': return { method: 'gradcam++' };
    case 'layercam': return { method: 'layercam', layer: viewLayer };
    default: return null;
  }
}

async function measure(explainer: Explainer, model: string, mode: BenchMode, viewLayer: string, req: MicroRequest) {
  const result = { backend: req.backend, model, mode, samplesMs: [] as number[], error: undefined as string | undefined };
  const request = requestFor(mode, viewLayer);
  const gpu = req.backend === 'webgpu' || req.backend === 'webgl';
  let baseline: BaselineGradCam | undefined;
  try {
    if (mode === 'baseline') baseline = new BaselineGradCam(explainer.network.model, explainer.defaultLayer, 'conv_preds');
    const once = async (): Promise<void> => {
      // A fresh VideoFrame each time, as the camera delivers them; the worker's own conversion path.
      const frame = new VideoFrame(req.bitmap, { timestamp: 0 });
      try {
        if (baseline) {
          const pixels = tf.browser.fromPixels(req.bitmap);
          await baseline.run(pixels, req.bitmap.width, req.bitmap.height);
          pixels.dispose();
        } else {
          const input = gpu ? await createImageBitmap(frame) : frame;
          if (request) await explainer.explain(input, { ...request, crop: 'center' });
          else await explainer.classify(input, { crop: 'center' });
          if (input !== frame) input.close();
        }
      } finally {
        frame.close();
      }
    };
    const start = performance.now();
    for (let i = 0; i < req.warmup; i++) await once();
    for (let i = 0; i < req.iterations && performance.now() - start < req.budgetMs; i++) {
      const t0 = performance.now();
      await once();
      result.samplesMs.push(performance.now() - t0);
    }
  } catch (e) {
    result.error = (e as Error).message;
  } finally {
    baseline?.dispose();
  }
  return result;
}

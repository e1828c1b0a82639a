/**
 * `npm run bench:node -- [--backend wasm|cpu|webgpu] [--source pixels|device] [--model ID] [--iterations N] [--json FILE]`:
 * the engine's per-frame figures under Node, so that they can be taken on a GPU machine too: wall
 * time, stage times, and the kernels each frame runs. `--source pixels` (default) hands the engine
 * the decoded RGBA bytes, as a file or a camera read into memory gives them; `--source device`
 * a frame already on the device (an RGBA tensor, uploaded once), like the browser's GPU path.
 * `--backend webgpu` runs tfjs-backend-webgpu on Google's Dawn through the `webgpu` npm package
 * (install it with `npm install --no-save webgpu` where it is wanted; see ../shared/gpu/README.md).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { DEFAULT_MODEL_ID, FAST_MODEL_ID, findModel } from '../models/registry.js';
import type { Explainer, ExplainRequest, StageTimings } from '../src/explain/explainer.js';
import type { RgbaImage } from '../src/explain/input.js';
import { useNodeBackend } from '../src/node/backend.js';
import { readImage } from '../src/node/image-io.js';
import { loadExplainerFromDisk } from '../src/node/load-model.js';
import { PROJECT_ROOT } from '../src/node/paths.js';
import { countKernels, gpuTime } from './frame-probe.js';
import { markdownTable, type RawResult, type StageSample, stageTable, toRows } from './stats.js';

const { values: o } = parseArgs({
  options: {
    backend: { type: 'string', default: 'wasm' },
    model: { type: 'string' },
    iterations: { type: 'string' },
    image: { type: 'string' },
    source: { type: 'string', default: 'pixels' },
    'list-kernels': { type: 'boolean' },
    json: { type: 'string' },
  },
});

const MODES: [string, ExplainRequest | null][] = [
  ['classify', null],
  ['cam', { method: 'cam' }],
  ['gradcam', { method: 'gradcam' }],
  ['gradcam14', { method: 'gradcam', layer: 'view' }],
  ['gradcampp', { method: 'gradcam++' }],
  ['layercam', { method: 'layercam', layer: 'view' }],
];

async function startBackend(name: string): Promise<string> {
  if (name === 'webgpu') {
    let webgpu: { create(flags: string[]): unknown; globals: object };
    try {
      webgpu = (await import('webgpu' as string)) as typeof webgpu;
    } catch {
      throw new Error('The webgpu backend under Node needs the "webgpu" package: npm install --no-save webgpu');
    }
    // tfjs-backend-webgpu registers itself only if navigator.gpu exists when it is imported.
    Object.assign(globalThis, webgpu.globals);
    // allow_unsafe_apis exposes timestamp queries (the GPU's own time per dispatch) where the adapter has them.
    Object.defineProperty(globalThis, 'navigator', {
      value: { gpu: webgpu.create(['enable-dawn-features=allow_unsafe_apis']) },
      configurable: true,
    });
    const gpu = (
      globalThis as unknown as { navigator: { gpu: { requestAdapter(): Promise<{ info?: object } | null> } } }
    ).navigator.gpu;
    const adapter = await gpu.requestAdapter();
    if (!adapter) throw new Error('No WebGPU adapter: is there a GPU with a Vulkan driver?');
    await import('@tensorflow/tfjs-backend-webgpu');
    tf.env().set('PROD', true);
    if (!(await tf.setBackend('webgpu'))) throw new Error('tfjs could not start its webgpu backend');
    return `webgpu (${JSON.stringify(adapter.info ?? {})})`;
  }
  await useNodeBackend(name as 'wasm' | 'cpu');
  return name;
}

type Source = RgbaImage | tf.Tensor3D;

async function measure(
  explainer: Explainer,
  model: string,
  image: Source,
  iterations: number,
  warmup: number,
): Promise<RawResult[]> {
  const view = findModel(model)!.viewLayer;
  const results = MODES.map(([mode]) => ({
    backend: o.backend!,
    model,
    mode,
    samplesMs: [] as number[],
    stageSamples: [] as StageSample[],
    gpuSamplesMs: [] as number[],
    kernels: 0,
  }));
  const frame = async (request: ExplainRequest | null): Promise<StageTimings> => {
    if (request)
      return (
        await explainer.explain(image, {
          ...request,
          ...(request.layer === 'view' ? { layer: view } : {}),
          crop: 'center',
        })
      ).timings;
    return (await explainer.classify(image, { crop: 'center' })).timings;
  };
  for (let round = -warmup; round < iterations; round++) {
    for (const [i, [, request]] of MODES.entries()) {
      const t0 = performance.now();
      const t = await frame(request);
      if (round < 0) continue;
      results[i]!.samplesMs.push(performance.now() - t0);
      results[i]!.stageSamples.push({
        preprocessMs: t.preprocessMs,
        encodeMs: t.forwardMs + t.heatmapMs,
        readbackMs: t.readbackMs,
      });
    }
  }
  // Counting and GPU timing hook every kernel: done apart from the timed frames.
  for (const [i, [, request]] of MODES.entries()) {
    const counted = await countKernels(() => frame(request));
    results[i]!.kernels = counted.kernels;
    if (o['list-kernels'])
      console.log(`${model} ${results[i]!.mode}: ${counted.kernels} kernels: ${counted.names.join(' ')}`);
    for (let k = 0; k < Math.min(iterations, 10); k++) {
      const ms = await gpuTime(() => frame(request));
      if (ms === null) break;
      results[i]!.gpuSamplesMs.push(ms);
    }
  }
  return results;
}

let described: string;
try {
  described = await startBackend(o.backend!);
} catch (e) {
  console.error(`bench:node: ${(e as Error).message}`);
  process.exit(1);
}
if (o.source !== 'pixels' && o.source !== 'device') {
  console.error(`bench:node: --source must be pixels or device; got "${o.source}"`);
  process.exit(2);
}
const pixels = await readImage(
  o.image ?? path.join(PROJECT_ROOT, '..', 'shared', 'images', 'photos', 'sherlock_golden_retriever.jpg'),
);
// On the device: the RGBA bytes as they are (int32, as tf.browser.fromPixels gives them), uploaded once.
const image: Source =
  o.source === 'device' ? tf.tensor3d(new Int32Array(pixels.data), [pixels.height, pixels.width, 4], 'int32') : pixels;
const iterations = Number(o.iterations ?? (o.backend === 'cpu' ? 5 : 50));
const all = [];
for (const model of (o.model ?? `${DEFAULT_MODEL_ID},${FAST_MODEL_ID}`).split(',')) {
  const explainer = await loadExplainerFromDisk(model);
  all.push(...(await measure(explainer, model, image, iterations, o.backend === 'cpu' ? 1 : 10)));
  explainer.dispose();
}
const rows = toRows(all);
const machine = `${os.cpus()[0]?.model ?? 'cpu'} ×${os.cpus().length}, Node ${process.version}, backend ${described}, source ${o.source}`;
console.log(
  `# WhyCam engine under Node — ${machine}\n\n${markdownTable(rows)}\n\n## Kernels and stages per frame (medians)\n\n${stageTable(rows)}`,
);
if (o.json)
  fs.writeFileSync(o.json, `${JSON.stringify({ date: new Date().toISOString(), machine, results: rows }, null, 2)}\n`);

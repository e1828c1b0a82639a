/**
 * `npm run bench:node -- [--backend wasm|cpu|webgpu] [--source pixels|device|bitmap|videoframe] [--capture on|off] [--model ID[,ID…]|all] [--iterations N] [--json FILE] [--check-capture]`:
 * the engine's per-frame figures under Node, so that they can be taken on a GPU machine too: wall
 * time, stage times, and the kernels each frame runs. `--source pixels` (default) hands the engine
 * the decoded RGBA bytes, as a file or a camera read into memory gives them; `--source device`
 * a frame already on the device (an RGBA tensor, uploaded once), like the browser's GPU path.
 * `--backend webgpu` runs tfjs-backend-webgpu on Google's Dawn through the `webgpu` npm package
 * (a devDependency; on a machine without a GPU, VK_DRIVER_FILES can name a software Vulkan driver such
 * as Chromium's SwiftShader). `--capture off` turns graph capture off (webgpu only; see
 * src/explain/runtime/graph-capture.ts), for before/after figures.
 * `--source bitmap` makes a new RGBA tensor each frame (what the worker's createImageBitmap →
 * fromPixels gave on WebGPU); `--source videoframe` hands over a VideoFrame-like object (copyTo),
 * as the worker can pass a camera's VideoFrame. Each run ends with what one frame allocates and
 * copies ("Allocations and copies per frame"): before/after for the frame path.
 * `--model all` runs every registered model that is installed under models/, one after another,
 * into one table ("Per model": classify ms, each mode's ratio to it, kernels per frame). The modes
 * `gradcam14` and `layercam` run at the model's view layer (the registry's `defaultView`: 14×14 on
 * the MobileNets, the auto layer on the zoo models); a mode a model cannot run is reported as
 * failed and the others go on. `--check-capture` (webgpu) times nothing: it checks, per model, that
 * replayed frames equal op-by-op frames (bench/capture-check.ts).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { DEFAULT_MODEL_ID, FAST_MODEL_ID, MODELS, defaultView } from '../models/registry.js';
import type { Explainer } from '../src/explain/methods/explainer.js';
import type { ExplainRequest, StageTimings } from '../src/explain/methods/types.js';
import type { RgbaImage, VideoFrameLike } from '../src/explain/runtime/input.js';
import { type NodeBackend, useNodeBackend } from '../src/node/backend.js';
import { readImage } from '../src/node/image-io.js';
import { loadExplainerFromDisk } from '../src/node/load-model.js';
import { checkInstalled } from '../src/node/model-store.js';
import { modelsDir, PROJECT_ROOT } from '../src/node/paths.js';
import { type CaptureCheck, captureTable, checkCapture } from './capture-check.js';
import { countKernels, gpuProfile, gpuTime } from './frame-probe.js';
import { markdownTable, modelTable, type RawResult, type StageSample, stageTable, toRows } from './stats.js';

const { values: o } = parseArgs({
  options: {
    backend: { type: 'string', default: 'wasm' },
    model: { type: 'string' },
    iterations: { type: 'string' },
    image: { type: 'string' },
    source: { type: 'string', default: 'pixels' },
    capture: { type: 'string', default: 'on' },
    'list-kernels': { type: 'boolean' },
    profile: { type: 'boolean' },
    'check-capture': { type: 'boolean' },
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

type Source = RgbaImage | tf.Tensor3D | VideoFrameLike | (() => tf.Tensor3D);

/** A camera frame as a worker holds it: pixels that `copyTo` reads out (counted). */
class FakeVideoFrame implements VideoFrameLike {
  copies = 0;
  constructor(private readonly pixels: RgbaImage) {}
  get displayWidth(): number {
    return this.pixels.width;
  }
  get displayHeight(): number {
    return this.pixels.height;
  }
  copyTo(destination: Uint8Array): Promise<unknown> {
    destination.set(this.pixels.data);
    this.copies++;
    return Promise.resolve([]);
  }
}

/** The frame to hand over: `bitmap` makes a new device tensor each time, as fromPixels did. */
async function withFrame<T>(
  source: Source,
  run: (image: RgbaImage | tf.Tensor3D | VideoFrameLike) => Promise<T>,
): Promise<T> {
  if (typeof source !== 'function') return run(source);
  const image = source();
  try {
    return await run(image);
  } finally {
    image.dispose();
  }
}

/**
 * What the frame after two warm ones allocates and copies: tensors made, and on webgpu the
 * buffers and textures created, the CPU → GPU writes, the external-picture copies and the submits.
 */
async function perFrame(
  explainer: Explainer,
  source: Source,
  request: ExplainRequest,
): Promise<Record<string, number>> {
  const frame = () => withFrame(source, (image) => explainer.explain(image, { ...request, crop: 'center' }));
  await frame();
  await frame();
  const device = (tf.backend() as unknown as { device?: { queue: object } }).device;
  const targets: [object, string][] = device
    ? [
        [Object.getPrototypeOf(device) as object, 'createBuffer'],
        [Object.getPrototypeOf(device) as object, 'createTexture'],
        [Object.getPrototypeOf(device.queue) as object, 'writeBuffer'],
        [Object.getPrototypeOf(device.queue) as object, 'copyExternalImageToTexture'],
        [Object.getPrototypeOf(device.queue) as object, 'submit'],
      ]
    : [];
  const counts: Record<string, number> = {};
  const saved = targets.map(([owner, name]) => (owner as Record<string, (...a: unknown[]) => unknown>)[name]!);
  targets.forEach(([owner, name], i) => {
    counts[name] = 0;
    (owner as Record<string, unknown>)[name] = function (this: unknown, ...args: unknown[]) {
      counts[name]!++;
      return saved[i]!.apply(this, args);
    };
  });
  const copiesBefore = source instanceof FakeVideoFrame ? source.copies : 0;
  const first = tf.scalar(0);
  try {
    await frame();
  } finally {
    targets.forEach(([owner, name], i) => ((owner as Record<string, unknown>)[name] = saved[i]));
  }
  const last = tf.scalar(0);
  counts['tensors made'] = last.id - first.id - 1;
  counts['frame read to the CPU'] = source instanceof FakeVideoFrame ? source.copies - copiesBefore : 0;
  tf.dispose([first, last]);
  return counts;
}

async function measure(
  explainer: Explainer,
  model: string,
  image: Source,
  iterations: number,
  warmup: number,
): Promise<RawResult[]> {
  const view = defaultView(model).layer;
  const results = MODES.map(([mode]) => ({
    backend: o.backend!,
    model,
    mode,
    samplesMs: [] as number[],
    stageSamples: [] as StageSample[],
    gpuSamplesMs: [] as number[],
    kernels: 0,
    error: undefined as string | undefined,
  }));
  const frame = (request: ExplainRequest | null): Promise<StageTimings> =>
    withFrame(image, async (picture) => {
      if (request)
        return (
          await explainer.explain(picture, {
            ...request,
            ...(request.layer === 'view' ? { layer: view } : {}),
            crop: 'center',
          })
        ).timings;
      return (await explainer.classify(picture, { crop: 'center' })).timings;
    });
  for (let round = -warmup; round < iterations; round++) {
    for (const [i, [, request]] of MODES.entries()) {
      if (results[i]!.error) continue;
      const t0 = performance.now();
      let t: StageTimings;
      try {
        t = await frame(request);
      } catch (e) {
        // A mode this model cannot run (say, CAM without a global-pool-then-linear head): reported, not fatal.
        results[i]!.error = (e as Error).message;
        continue;
      }
      if (round < 0) continue;
      results[i]!.samplesMs.push(performance.now() - t0);
      results[i]!.stageSamples.push({
        preprocessMs: t.preprocessMs,
        encodeMs: t.forwardMs + t.heatmapMs,
        readbackMs: t.readbackMs,
      });
    }
  }
  // Counting and GPU timing hook every kernel: done apart from the timed frames, op by op (a
  // replayed graph dispatches the same kernels without asking tfjs for them).
  const capture = explainer.useGraphCapture;
  explainer.useGraphCapture = false;
  for (const [i, [, request]] of MODES.entries()) {
    if (results[i]!.error) continue;
    const counted = await countKernels(() => frame(request));
    results[i]!.kernels = counted.kernels;
    if (o['list-kernels'])
      console.log(`${model} ${results[i]!.mode}: ${counted.kernels} kernels: ${counted.names.join(' ')}`);
    if (o.profile) {
      // The GPU's time per dispatch, summed by program over 10 frames: where a frame's GPU time goes.
      const byProgram = new Map<string, { ms: number; n: number }>();
      for (let k = 0; k < 10; k++) {
        for (const { name, ms } of (await gpuProfile(() => frame(request))) ?? []) {
          const entry = byProgram.get(name) ?? { ms: 0, n: 0 };
          byProgram.set(name, { ms: entry.ms + ms / 10, n: entry.n + 0.1 });
        }
      }
      const top = [...byProgram].sort((a, b) => b[1].ms - a[1].ms);
      const listed = top.map(([name, { ms, n }]) => `${name}×${Math.round(n)} ${ms.toFixed(3)}`);
      console.log(`${model} ${results[i]!.mode} GPU ms by program: ${listed.join(', ')}`);
    }
    for (let k = 0; k < Math.min(iterations, 10); k++) {
      const ms = await gpuTime(() => frame(request));
      if (ms === null) break;
      results[i]!.gpuSamplesMs.push(ms);
    }
  }
  explainer.useGraphCapture = capture;
  return results.map(({ error, ...r }) => (error ? { ...r, error } : r));
}

/** `--model`: a list of ids, or `all`: every registered model whose files are installed and pass their checks. */
async function modelIds(option: string | undefined): Promise<string[]> {
  if (option !== 'all') return (option ?? `${DEFAULT_MODEL_ID},${FAST_MODEL_ID}`).split(',');
  const installed: string[] = [];
  for (const entry of MODELS) {
    const problem = await checkInstalled(entry, modelsDir());
    if (problem === null) installed.push(entry.id);
    else console.error(`bench:node: skipping ${entry.id}: ${problem.split('\n')[0]}`);
  }
  return installed;
}

let described: string;
try {
  described = await useNodeBackend(o.backend as NodeBackend);
} catch (e) {
  console.error(`bench:node: ${(e as Error).message}`);
  process.exit(1);
}
if (o.capture !== 'on' && o.capture !== 'off') {
  console.error(`bench:node: --capture must be on or off; got "${o.capture}"`);
  process.exit(2);
}
if (!['pixels', 'device', 'bitmap', 'videoframe'].includes(o.source!)) {
  console.error(`bench:node: --source must be pixels, device, bitmap or videoframe; got "${o.source}"`);
  process.exit(2);
}
const pixels = await readImage(
  o.image ?? path.join(PROJECT_ROOT, '..', 'shared', 'images', 'photos', 'sherlock_golden_retriever.jpg'),
);
// On the device: the RGBA bytes as they are (int32, as tf.browser.fromPixels gives them), uploaded once.
const rgbaTensor = () => tf.tensor3d(new Int32Array(pixels.data), [pixels.height, pixels.width, 4], 'int32');
const image: Source =
  o.source === 'device'
    ? rgbaTensor()
    : o.source === 'bitmap'
      ? rgbaTensor
      : o.source === 'videoframe'
        ? new FakeVideoFrame(pixels)
        : pixels;
const frameCounts: string[] = [];
const iterations = Number(o.iterations ?? (o.backend === 'cpu' ? 5 : 50));
const models = await modelIds(o.model);
const machine = `${os.cpus()[0]?.model ?? 'cpu'} ×${os.cpus().length}, Node ${process.version}, backend ${described}, source ${o.source}${o.backend === 'webgpu' ? `, graph capture ${o.capture}` : ''}`;
if (o['check-capture']) {
  if (o.backend !== 'webgpu') {
    console.error('bench:node: --check-capture needs --backend webgpu (graph capture exists only there)');
    process.exit(2);
  }
  const checks: CaptureCheck[] = [];
  for (const model of models) {
    const explainer = await loadExplainerFromDisk(model);
    checks.push(await checkCapture(explainer, model, pixels));
    console.error(`bench:node: ${model}: capture checked in ${checks.at(-1)!.seconds.toFixed(1)} s`);
    explainer.dispose();
  }
  console.log(`# Graph capture: replay against op by op — ${machine}\n\n${captureTable(checks)}`);
  if (o.json)
    fs.writeFileSync(o.json, `${JSON.stringify({ date: new Date().toISOString(), machine, checks }, null, 2)}\n`);
  process.exit(0);
}
const all = [];
const views = new Map<string, string>();
for (const model of models) {
  const explainer = await loadExplainerFromDisk(model);
  explainer.useGraphCapture = o.capture === 'on';
  views.set(model, defaultView(model).layer);
  const t0 = performance.now();
  all.push(...(await measure(explainer, model, image, iterations, o.backend === 'cpu' ? 1 : 10)));
  console.error(`bench:node: ${model} measured in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  const counts = await perFrame(explainer, image, { method: 'gradcam' });
  frameCounts.push(
    `| ${model} | ${o.source} | ${Object.entries(counts)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')} |`,
  );
  if (explainer.graphCaptureError) console.error(`bench:node: graph capture failed: ${explainer.graphCaptureError}`);
  explainer.dispose();
}
const rows = toRows(all);
const modes = MODES.map(([mode]) => mode);
console.log(
  `# WhyCam engine under Node — ${machine}\n\n${markdownTable(rows)}\n\n## Per model (× classify, kernels per frame)\n\n${modelTable(rows, modes, views)}` +
    `\n\n## Kernels and stages per frame (medians)\n\n${stageTable(rows)}` +
    `\n\n## Allocations and copies per frame (Grad-CAM, after two frames)\n\n| model | source | counts |\n|---|---|---|\n${frameCounts.join('\n')}`,
);
if (o.json)
  fs.writeFileSync(o.json, `${JSON.stringify({ date: new Date().toISOString(), machine, results: rows }, null, 2)}\n`);

/**
 * `npm run bench:node -- [--backend wasm|cpu|webgpu] [--model ID] [--iterations N] [--json FILE]`:
 * the engine's per-frame figures under Node, so that they can be taken on a GPU machine too.
 * `--backend webgpu` runs tfjs-backend-webgpu on Google's Dawn through the `webgpu` npm package
 * (install it with `npm install --no-save webgpu` where it is wanted; see ../shared/gpu/README.md).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { DEFAULT_MODEL_ID, FAST_MODEL_ID, findModel } from '../models/registry.js';
import type { Explainer, ExplainRequest } from '../src/explain/explainer.js';
import { useNodeBackend } from '../src/node/backend.js';
import { readImage } from '../src/node/image-io.js';
import { loadExplainer } from '../src/node/load-model.js';
import { PROJECT_ROOT } from '../src/node/paths.js';
import { markdownTable, toRows } from './stats.js';

const { values: o } = parseArgs({
  options: {
    backend: { type: 'string', default: 'wasm' },
    model: { type: 'string' },
    iterations: { type: 'string' },
    image: { type: 'string' },
    json: { type: 'string' },
  },
});

const MODES: [string, ExplainRequest | null][] = [
  ['classify', null], ['cam', { method: 'cam' }], ['gradcam', { method: 'gradcam' }], ['gradcam14', { method: 'gradcam', layer: 'view' }],
  ['gradcampp', { method: 'gradcam++' }], ['layercam', { method: 'layercam', layer: 'view' }],
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
    Object.defineProperty(globalThis, 'navigator', { value: { gpu: webgpu.create([]) }, configurable: true });
    const gpu = (globalThis as unknown as { navigator: { gpu: { requestAdapter(): Promise<{ info?: object } | null> } } }).navigator.gpu;
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

async function measure(explainer: Explainer, model: string, image: Awaited<ReturnType<typeof readImage>>, iterations: number, warmup: number) {
  const view = findModel(model)!.viewLayer;
  const results = MODES.map(([mode]) => ({ backend: o.backend!, model, mode, samplesMs: [] as number[] }));
  for (let round = -warmup; round < iterations; round++) {
    for (const [i, [, request]] of MODES.entries()) {
      const t0 = performance.now();
      if (request) await explainer.explain(image, { ...request, ...(request.layer === 'view' ? { layer: view } : {}), crop: 'center' });
      else await explainer.classify(image, { crop: 'center' });
      if (round >= 0) results[i]!.samplesMs.push(performance.now() - t0);
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
const image = await readImage(o.image ?? path.join(PROJECT_ROOT, '..', 'shared', 'images', 'photos', 'sherlock_golden_retriever.jpg'));
const iterations = Number(o.iterations ?? (o.backend === 'cpu' ? 5 : 50));
const all = [];
for (const model of (o.model ?? `${DEFAULT_MODEL_ID},${FAST_MODEL_ID}`).split(',')) {
  const explainer = await loadExplainer(model);
  all.push(...await measure(explainer, model, image, iterations, o.backend === 'cpu' ? 1 : 10));
  explainer.dispose();
}
const rows = toRows(all);
const machine = `${os.cpus()[0]?.model ?? 'cpu'} ×${os.cpus().length}, Node ${process.version}, backend ${described}`;
console.log(`# WhyCam engine under Node — ${machine}\n\n${markdownTable(rows)}`);
if (o.json) fs.writeFileSync(o.json, `${JSON.stringify({ date: new Date().toISOString(), machine, results: rows }, null, 2)}\n`);

/**
 * `npm run soak -- [--frames 10000] [--backend wasm]`: the live app with the fake camera for a long
 * run, sampling what must stay flat — tensors, open VideoFrames, the worker's tfjs and WASM memory,
 * the page's JS heap — every 500 frames. Prints a table; writes bench/results/soak-<date>.json.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';
import { build } from 'vite';
import { chromiumLaunchOptions } from '../scripts/chromium.js';
import type { WhyCamStatus } from '../src/app/automation.js';
import { PROJECT_ROOT } from '../src/node/paths.js';
import { StaticServer } from '../src/node/static-server.js';

const { values: o } = parseArgs({
  options: {
    frames: { type: 'string', default: '10000' },
    backend: { type: 'string', default: 'wasm' },
    every: { type: 'string', default: '500' },
  },
});
const target = Number(o.frames);
const every = Number(o.every);
const SHARED = path.resolve(process.env['WHYCAM_SHARED'] ?? path.join(PROJECT_ROOT, '..', 'shared'));

const outDir = path.join(PROJECT_ROOT, 'bench', 'results', 'app');
await build({ root: PROJECT_ROOT, logLevel: 'error', build: { outDir, emptyOutDir: true } });
const server = new StaticServer(outDir);
await server.start();
const browser = await chromium.launch(
  chromiumLaunchOptions({
    webgpu: true,
    preciseMemory: true,
    allowCamera: true,
    camera: path.join(SHARED, 'video', 'pomeranian_sofa_640x360_30fps.mjpeg'),
  }),
);
const samples: {
  frames: number;
  seconds: number;
  numTensors: number | null;
  openFrames: number | null;
  tensorMB: number;
  gpuMB: number | null;
  wasmHeapMB: number | null;
  pageHeapMB: number | null;
  fps: number;
}[] = [];
try {
  const page = await browser.newPage();
  await page.goto(`${server.url}/?backend=${o.backend}`);
  const status = (): Promise<WhyCamStatus> => page.evaluate(() => window.whycam!.status());
  const t0 = Date.now();
  let next = 0;
  for (;;) {
    const s = await status();
    if (s.error) throw new Error(s.error);
    if (s.frames >= next && s.memory) {
      const mb = (b: number | null) => (b === null ? null : b / 2 ** 20);
      samples.push({
        frames: s.frames,
        seconds: (Date.now() - t0) / 1000,
        numTensors: s.numTensors,
        openFrames: s.openFrames,
        tensorMB: mb(s.memory.tensorBytes)!,
        gpuMB: mb(s.memory.gpuBytes),
        wasmHeapMB: mb(s.memory.wasmHeapBytes),
        pageHeapMB: mb(s.memory.pageHeapBytes),
        fps: s.fps,
      });
      process.stderr.write(`${JSON.stringify(samples.at(-1))}\n`);
      next = (Math.floor(s.frames / every) + 1) * every;
      if (s.frames >= target) break;
    }
    await page.waitForTimeout(1000);
  }
} finally {
  await browser.close();
  await server.stop();
}
const f = (v: number | null, d = 1) => (v === null ? '–' : v.toFixed(d));
console.log(
  [
    '| frames | time s | heatmaps/s | tensors | open VideoFrames | tensor MB | GPU MB | WASM heap MB | page JS heap MB |',
    '|---|---|---|---|---|---|---|---|---|',
    ...samples.map(
      (s) =>
        `| ${s.frames} | ${f(s.seconds, 0)} | ${f(s.fps)} | ${s.numTensors} | ${s.openFrames} | ${f(s.tensorMB)} | ${f(s.gpuMB)} | ${f(s.wasmHeapMB)} | ${f(s.pageHeapMB)} |`,
    ),
  ].join('\n'),
);
const file = path.join(PROJECT_ROOT, 'bench', 'results', `soak-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
fs.writeFileSync(file, `${JSON.stringify({ backend: o.backend, samples }, null, 2)}\n`);
console.log(`wrote ${file}`);

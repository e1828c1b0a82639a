/**
 * `npm run bench`: WhyCam's speed in headless Chromium, every backend that starts, both models,
 * every mode, as medians and ratios measured in one run; then the live pipeline with the fake
 * camera, against a naive main-thread implementation. Prints a Markdown table and writes
 * bench/results/<date>.json and .md.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { chromium, type Browser, type Page } from 'playwright-core';
import { build, createServer, type Plugin } from 'vite';
import { DEFAULT_MODEL_ID, FAST_MODEL_ID } from '../models/registry.js';
import { CHROMIUM, chromiumLaunchOptions, observeLongTasks, takeLongTasks } from '../scripts/chromium.js';
import type { WhyCamSet, WhyCamStatus } from '../src/app/automation.js';
import { PROJECT_ROOT } from '../src/node/paths.js';
import { StaticServer } from '../src/node/static-server.js';
import type { MicroResult } from './browser/protocol.js';
import { type BenchRow, markdownTable, stageTable, toRows } from './stats.js';
import { type ClipFigures, clipBench, clipTable } from './clip.js';

const { values: o } = parseArgs({
  options: {
    backend: { type: 'string' },
    model: { type: 'string' },
    json: { type: 'string' },
    iterations: { type: 'string' },
    'live-seconds': { type: 'string' },
    'skip-live': { type: 'boolean' },
    'skip-micro': { type: 'boolean' },
    'skip-clip': { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (o.help) {
  console.log(`Usage: npm run bench -- [--backend webgpu,webgl,wasm,cpu] [--model ${DEFAULT_MODEL_ID},${FAST_MODEL_ID}]
                       [--iterations N] [--live-seconds S] [--skip-live] [--skip-micro] [--skip-clip] [--json FILE]`);
  process.exit(0);
}

const SHARED = path.resolve(process.env['WHYCAM_SHARED'] ?? path.join(PROJECT_ROOT, '..', 'shared'));
const CAMERA = path.join(SHARED, 'video', 'pomeranian_sofa_640x360_30fps.mjpeg');
const CLIP = path.join(SHARED, 'video', 'pomeranian_sofa.mp4');
const backends = (o.backend ?? 'webgpu,webgl,wasm,cpu').split(',');
const models = (o.model ?? `${DEFAULT_MODEL_ID},${FAST_MODEL_ID}`).split(',');
const liveSeconds = Number(o['live-seconds'] ?? 15);
/** The app's own work must never block the page's main thread this long (the browser's long-task threshold). */
const LONG_TASK_LIMIT_MS = 50;

/** Iterations per backend: SwiftShader backends take seconds per frame. */
const budget: Record<string, { warmup: number; iterations: number; budgetMs: number }> = {
  wasm: { warmup: 3, iterations: Number(o.iterations ?? 30), budgetMs: 120_000 },
  cpu: { warmup: 1, iterations: Number(o.iterations ?? 5), budgetMs: 90_000 },
  webgl: { warmup: 1, iterations: Number(o.iterations ?? 5), budgetMs: 90_000 },
  webgpu: { warmup: 1, iterations: Number(o.iterations ?? 3), budgetMs: 150_000 },
};

/** Serves ../shared (the benchmark's photo and nothing else) to the bench pages. */
function sharedPlugin(): Plugin {
  return {
    name: 'whycam-bench-shared',
    configureServer(server) {
      server.middlewares.use('/shared/', (req, res) => {
        const file = path.join(SHARED, decodeURIComponent((req.url ?? '').split('?')[0]!));
        if (!file.startsWith(SHARED) || !fs.existsSync(file)) {
          res.statusCode = 404;
          res.end();
          return;
        }
        fs.createReadStream(file).pipe(res);
      });
    },
  };
}

async function launch(camera = false): Promise<Browser> {
  return chromium.launch(
    chromiumLaunchOptions({ webgpu: true, ...(camera ? { camera: CAMERA, allowCamera: true } : {}) }),
  );
}

async function micro(devUrl: string): Promise<{ rows: BenchRow[]; notes: Record<string, string[]> }> {
  const results: MicroResult[] = [];
  const notes: Record<string, string[]> = {};
  // Let the development server discover and pre-bundle every dependency before anything is timed.
  const warm = await launch();
  const warmPage = await warm.newPage();
  await warmPage.goto(`${devUrl}/bench/browser/micro.html`);
  await warmPage.waitForTimeout(5000);
  await warm.close();
  for (const backend of backends) {
    // A fresh browser per backend: one backend's leftovers (a lost WebGL2, a busy GPU process) must not slow the next.
    const browser = await launch();
    try {
      const page = await browser.newPage();
      process.stderr.write(`micro: ${backend}…\n`);
      const run = async () => {
        await page.goto(`${devUrl}/bench/browser/micro.html`);
        await page.waitForFunction(() => 'runMicro' in window);
        return page.evaluate(
          (req) =>
            (
              window as unknown as { runMicro(r: unknown): Promise<{ results: MicroResult[]; notes: string[] }> }
            ).runMicro(req),
          { backend, models, image: '/shared/images/photos/sherlock_golden_retriever.jpg', ...budget[backend]! },
        );
      };
      // The development server reloads the page when it first meets new dependencies: try again.
      let out: Awaited<ReturnType<typeof run>> | undefined;
      for (let attempt = 1; !out; attempt++) {
        try {
          out = await run();
        } catch (e) {
          if (attempt >= 3 || !/context was destroyed|navigat/i.test((e as Error).message)) throw e;
        }
      }
      results.push(...out.results);
      notes[backend] = out.notes;
    } catch (e) {
      notes[backend] = [`failed to start: ${(e as Error).message.split('\n')[0]}`];
    } finally {
      await browser.close();
    }
  }
  return { rows: toRows(results), notes };
}

interface LiveFigures {
  pipeline: string;
  backend: string;
  model: string;
  seconds: number;
  heatmapsPerSecond: number;
  latencyMs: { p50: number | null; p95: number | null };
  workerFrameMs: number | null;
  latencyOverWorkerFrame: number | null;
  longTasksOver50ms: number;
  longestTaskMs: number;
  numTensors: { start: number | null; end: number | null };
  openVideoFrames: number | null;
  jsHeapMB: { start: number; end: number };
  frames: number;
  firstHeatmapAfterCameraMs: { cold: number | null; warm: number | null };
}

const appStatus = (page: Page): Promise<WhyCamStatus> => page.evaluate(() => window.whycam!.status());
const heapMB = (page: Page) =>
  page.evaluate(
    () => ((performance as unknown as { memory?: { usedJSHeapSize: number } }).memory?.usedJSHeapSize ?? 0) / 2 ** 20,
  );

/** The live app; with `compare`, side by side (two views of each frame from one forward pass and one read-back). */
async function liveApp(
  appUrl: string,
  backend: string,
  model: string,
  compare: WhyCamSet['compare'] = null,
): Promise<LiveFigures> {
  const browser = await launch(true);
  try {
    const context = await browser.newContext();
    await context.addInitScript(observeLongTasks);
    const page = await context.newPage();
    const url = `${appUrl}/?backend=${backend}&model=${model}`;
    const firstHeatmap = async (): Promise<number | null> => {
      await page.waitForFunction(() => (window.whycam?.status().frames ?? 0) > 0, null, { timeout: 120_000 });
      const t = (await appStatus(page)).timeline;
      return t.firstHeatmap !== null && t.cameraStarted !== null ? t.firstHeatmap - t.cameraStarted : null;
    };
    await page.goto(url);
    const cold = await firstHeatmap();
    await page
      .waitForFunction(() => navigator.serviceWorker.controller !== null, null, { timeout: 60_000 })
      .catch(() => undefined);
    await page.reload();
    const warm = await firstHeatmap();
    if (compare) {
      await page.evaluate((c) => window.whycam!.set({ compare: c }), compare);
      await page.waitForFunction(() => window.whycam!.status().views !== null, null, { timeout: 60_000 });
    }
    await page.waitForTimeout(3000); // settle
    await takeLongTasks(page, { clear: true });
    const start = await appStatus(page);
    const heapStart = await heapMB(page);
    await page.waitForTimeout(liveSeconds * 1000);
    const end = await appStatus(page);
    const longTasks = await takeLongTasks(page);
    const s = end.stages;
    const workerFrame = s ? s.preprocessMs + s.forwardMs + s.heatmapMs + s.readbackMs : null;
    return {
      pipeline: compare
        ? `whycam side by side (${end.views!.map((v) => `${v.method} ${v.heatmap.width}×${v.heatmap.height}`).join(' vs ')})`
        : 'whycam (worker)',
      backend: end.backend ?? backend,
      model,
      seconds: liveSeconds,
      heatmapsPerSecond: (end.frames - start.frames) / liveSeconds,
      latencyMs: end.latencyMs,
      workerFrameMs: workerFrame,
      latencyOverWorkerFrame: workerFrame && end.latencyMs.p50 ? end.latencyMs.p50 / workerFrame : null,
      longTasksOver50ms: longTasks.filter((d) => d > LONG_TASK_LIMIT_MS).length,
      longestTaskMs: Math.max(0, ...longTasks),
      numTensors: { start: start.numTensors, end: end.numTensors },
      openVideoFrames: end.openFrames,
      jsHeapMB: { start: heapStart, end: await heapMB(page) },
      frames: end.frames,
      firstHeatmapAfterCameraMs: { cold, warm },
    };
  } finally {
    await browser.close();
  }
}

async function liveNaive(devUrl: string): Promise<LiveFigures> {
  const browser = await launch(true);
  try {
    const context = await browser.newContext();
    await context.addInitScript(observeLongTasks);
    const page = await context.newPage();
    await page.goto(`${devUrl}/bench/browser/naive.html?backend=wasm`);
    await page.waitForFunction(
      () =>
        (window as unknown as { naive: { frames: number; error: string } }).naive.frames > 3 ||
        !!(window as unknown as { naive: { error: string } }).naive.error,
      null,
      { timeout: 120_000 },
    );
    const error = await page.evaluate(() => (window as unknown as { naive: { error: string } }).naive.error);
    if (error) throw new Error(error);
    await takeLongTasks(page, { clear: true });
    const f0 = await page.evaluate(() => (window as unknown as { naive: { frames: number } }).naive.frames);
    const heapStart = await heapMB(page);
    await page.waitForTimeout(liveSeconds * 1000);
    const f1 = await page.evaluate(() => (window as unknown as { naive: { frames: number } }).naive.frames);
    const longTasks = await takeLongTasks(page);
    return {
      pipeline: 'baseline (naive, main thread)',
      backend: 'wasm',
      model: DEFAULT_MODEL_ID,
      seconds: liveSeconds,
      heatmapsPerSecond: (f1 - f0) / liveSeconds,
      latencyMs: { p50: null, p95: null },
      workerFrameMs: null,
      latencyOverWorkerFrame: null,
      longTasksOver50ms: longTasks.filter((d) => d > LONG_TASK_LIMIT_MS).length,
      longestTaskMs: Math.max(0, ...longTasks),
      numTensors: { start: null, end: null },
      openVideoFrames: null,
      jsHeapMB: { start: heapStart, end: await heapMB(page) },
      frames: f1,
      firstHeatmapAfterCameraMs: { cold: null, warm: null },
    };
  } finally {
    await browser.close();
  }
}

/** The long-task target, checked here rather than in the tests: a loaded machine stretches the odd task. */
function longTaskVerdict(l: LiveFigures): string {
  const verdict =
    l.longTasksOver50ms === 0
      ? 'met'
      : `MISSED: ${l.longTasksOver50ms} long tasks, the longest ${l.longestTaskMs.toFixed(0)} ms`;
  return `- long tasks (${l.backend}, ${l.model}): target none over ${LONG_TASK_LIMIT_MS} ms on the page's main thread: ${verdict}`;
}

function liveTable(live: readonly LiveFigures[]): string {
  const f = (v: number | null | undefined, d = 1): string => (v === null || v === undefined ? '–' : v.toFixed(d));
  const lines = [
    '| pipeline | backend | model | heatmaps/s | latency p50 / p95 ms | worker frame ms | latency ÷ frame | long tasks > 50 ms | tensors start→end | open VideoFrames | JS heap MB | first heatmap cold / warm ms |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const l of live) {
    lines.push(
      `| ${l.pipeline} | ${l.backend} | ${l.model} | ${f(l.heatmapsPerSecond)} | ${f(l.latencyMs.p50, 0)} / ${f(l.latencyMs.p95, 0)} | ${f(l.workerFrameMs)} | ${f(l.latencyOverWorkerFrame, 2)} | ${l.longTasksOver50ms} (max ${f(l.longestTaskMs, 0)}) | ${l.numTensors.start ?? '–'}→${l.numTensors.end ?? '–'} | ${l.openVideoFrames ?? '–'} | ${f(l.jsHeapMB.start)}→${f(l.jsHeapMB.end)} | ${f(l.firstHeatmapAfterCameraMs.cold, 0)} / ${f(l.firstHeatmapAfterCameraMs.warm, 0)} |`,
    );
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const started = new Date();
  process.stderr.write('building the app…\n');
  const outDir = path.join(PROJECT_ROOT, 'bench', 'results', 'app');
  await build({ root: PROJECT_ROOT, logLevel: 'error', build: { outDir, emptyOutDir: true } });
  const app = new StaticServer(outDir);
  await app.start();
  const dev = await createServer({
    root: PROJECT_ROOT,
    logLevel: 'error',
    server: { port: 0, host: '127.0.0.1' },
    plugins: [sharedPlugin()],
    optimizeDeps: { entries: ['bench/browser/*.html', 'bench/browser/*.worker.ts'] },
  });
  await dev.listen();
  const devUrl = dev.resolvedUrls!.local[0]!.replace(/\/$/, '');
  try {
    const { rows, notes } = o['skip-micro'] ? { rows: [], notes: {} } : await micro(devUrl);
    const live: LiveFigures[] = [];
    if (!o['skip-live']) {
      for (const model of models) {
        process.stderr.write(`live: app, wasm, ${model}…\n`);
        live.push(await liveApp(app.url, 'wasm', model));
        if (model === DEFAULT_MODEL_ID) {
          process.stderr.write(`live: app, wasm, ${model}, side by side (CAM | the default view)…\n`);
          live.push(await liveApp(app.url, 'wasm', model, { method: 'cam' }));
        }
      }
      process.stderr.write('live: naive baseline…\n');
      try {
        live.push(await liveNaive(devUrl));
      } catch (e) {
        process.stderr.write(`naive baseline failed: ${(e as Error).message}\n`);
      }
    }
    let clip: ClipFigures | null = null;
    if (!o['skip-clip']) {
      process.stderr.write('clip: explainVideo, wasm, the default view…\n');
      const browser = await launch();
      clip = await clipBench(browser, app.url, CLIP).finally(() => browser.close());
    }
    const report = {
      date: started.toISOString(),
      machine: `${process.platform} ${process.arch}, ${(await import('node:os')).cpus().length} cores, Chromium ${CHROMIUM}`,
      results: rows,
      backendNotes: notes,
      live,
      clip,
    };
    const markdown = [
      `# WhyCam benchmark, ${started.toISOString()}`,
      '',
      report.machine,
      '',
      '## Per frame (sherlock.jpg, 960×640, as a VideoFrame → read-back; medians after warm-up)',
      '',
      markdownTable(rows),
      '',
      '### Kernels and stages per frame (medians; GPU ms from timestamp queries where the adapter has them)',
      '',
      stageTable(rows),
      '',
      ...Object.entries(notes).map(([b, n]) => `- ${b}: ${n.join('; ') || 'started'}`),
      '',
      `## Live pipeline (fake camera, ${liveSeconds} s)`,
      '',
      liveTable(live),
      '',
      ...live.filter((l) => l.pipeline.startsWith('whycam')).map((l) => longTaskVerdict(l)),
      '',
      ...(clip ? ['## Whole clip (`explainVideo`, every frame, not in real time)', '', clipTable(clip), ''] : []),
    ].join('\n');
    const dir = path.join(PROJECT_ROOT, 'bench', 'results');
    fs.mkdirSync(dir, { recursive: true });
    const stamp = started.toISOString().replace(/[:.]/g, '-');
    const jsonFile = o.json ?? path.join(dir, `${stamp}.json`);
    fs.writeFileSync(jsonFile, `${JSON.stringify(report, null, 2)}\n`);
    fs.writeFileSync(path.join(dir, `${stamp}.md`), markdown);
    console.log(markdown);
    console.log(`\nwrote ${jsonFile}`);
  } finally {
    await dev.close();
    await app.stop();
  }
}

await main();

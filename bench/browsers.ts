/**
 * `npm run bench:browsers`: the live default view on WASM in Firefox (firefox-esr, its fake
 * camera), in Chromium (the Pomeranian clip as camera) and in WebKit (WebKitGTK's MiniBrowser, its
 * mock camera; `webkit-composited` runs it with accelerated compositing, which under a virtual
 * display is software GL), one after the other, on the same production build served the same way;
 * prints heatmaps per second, end-to-end latency, the worker's stages and how frames reached it.
 * `--threads 1,2` builds the app once per WASM thread count (VITE_WASM_THREADS) and runs each;
 * the default is one build that measures its thread count itself.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import { DEFAULT_MODEL_ID, defaultView } from '../models/registry.js';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';
import type { Page as PuppeteerPage } from 'puppeteer-core';
import { chromiumLaunchOptions } from '../scripts/chromium.js';
import { launchFirefox } from '../scripts/firefox.js';
import { launchWebKit } from '../scripts/webkit.js';
import type { WhyCamStatus } from '../src/app/automation.js';
import { PROJECT_ROOT } from '../src/node/paths.js';
import { StaticServer } from '../src/node/static-server.js';

const { values: o } = parseArgs({
  options: {
    seconds: { type: 'string' },
    threads: { type: 'string' },
    browsers: { type: 'string' },
    root: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (o.help) {
  console.log(
    'Usage: npm run bench:browsers -- [--seconds 20] [--threads auto|1,2] [--browsers firefox,chromium,webkit,webkit-composited] [--root CHECKOUT]',
  );
  process.exit(0);
}
const seconds = Number(o.seconds ?? 20);
const threadVariants = (o.threads ?? 'auto').split(',');
const browsers = (o.browsers ?? 'firefox,chromium,webkit').split(',');
/** The checkout whose app is built (another one, e.g. an export of an older commit, for before/after figures). */
const root = path.resolve(o.root ?? PROJECT_ROOT);
const SHARED = path.resolve(process.env['WHYCAM_SHARED'] ?? path.join(PROJECT_ROOT, '..', 'shared'));
const CAMERA = path.join(SHARED, 'video', 'pomeranian_sofa_640x360_30fps.mjpeg');
/** Heatmaps drawn before measuring: model loaded, kernels compiled, thread count chosen. */
const WARM_FRAMES = 10;

/** What one page reports: any page driver that can evaluate a function. */
type Evaluate = (fn: () => WhyCamStatus | null) => Promise<WhyCamStatus | null>;

interface Row {
  browser: string;
  build: string;
  wasmThreads: string;
  fps: number;
  p50: number | null;
  p95: number | null;
  forwardMs: number | null;
  /** The worker's other stages (mean ms): frame → tensor, heatmap (backward), wait before starting. */
  preprocessMs: number | null;
  heatmapMs: number | null;
  waitMs: number | null;
  /** Median time the worker sat idle waiting for the next camera frame. */
  idleMs: number | null;
  /** How frames reached the worker (a track processor, or grabbed as VideoFrame / ImageBitmap, with costs). */
  framePath: string;
  frames: number;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const readStatus = (): WhyCamStatus | null =>
  (window as Window & { whycam?: { status(): WhyCamStatus } }).whycam?.status() ?? null;

/** Waits for the warm-up, then counts heatmaps over `seconds`; latency is the app's own window at the end. */
async function measure(evaluate: Evaluate, browser: string, build: string): Promise<Row> {
  const deadline = Date.now() + 90_000;
  let s = await evaluate(readStatus);
  while (!s || s.frames < WARM_FRAMES) {
    if (Date.now() > deadline)
      throw new Error(`${browser}: no heatmaps after 90 s (${JSON.stringify(s?.error ?? s?.notices)})`);
    await sleep(250);
    s = await evaluate(readStatus);
  }
  const startFrames = s.frames;
  const t0 = Date.now();
  await sleep(seconds * 1000);
  const end = (await evaluate(readStatus))!;
  return {
    browser,
    build,
    // What the worker reports in use (the backend note's first number can be a core count).
    wasmThreads: String(end.wasmThreads ?? '?'),
    fps: ((end.frames - startFrames) * 1000) / (Date.now() - t0),
    p50: end.latencyMs.p50,
    p95: end.latencyMs.p95,
    forwardMs: end.stages?.forwardMs ?? null,
    preprocessMs: end.stages?.preprocessMs ?? null,
    heatmapMs: end.stages?.heatmapMs ?? null,
    waitMs: end.stages?.waitMs ?? null,
    idleMs: end.stages?.idleMs ?? null,
    framePath: end.framePath
      ? `${end.framePath.kind}${Object.keys(end.framePath.costs).length ? ':' : ''}${Object.entries(end.framePath.costs)
          .map(([k, v]) => ` ${k} ${v!.toFixed(1)} ms`)
          .join(',')}`
      : '–',
    frames: end.frames - startFrames,
  };
}

async function runChromium(url: string, build: string): Promise<Row> {
  const browser = await chromium.launch(chromiumLaunchOptions({ camera: CAMERA, allowCamera: true }));
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(url);
    return await measure((fn) => page.evaluate(fn), 'chromium', build);
  } finally {
    await browser.close();
  }
}

async function runFirefox(url: string, build: string): Promise<Row> {
  const session = await launchFirefox({ camera: 'fake', allowCamera: true });
  try {
    const page: PuppeteerPage = await session.browser.newPage();
    await page.setViewport({ width: 1280, height: 800 });
    await page.goto(url);
    return await measure((fn) => page.evaluate(fn), 'firefox', build);
  } finally {
    await session.close();
  }
}

async function runWebKit(url: string, build: string, compositing: boolean): Promise<Row> {
  const session = await launchWebKit({ camera: 'mock', width: 1280, height: 800, compositing });
  try {
    await session.page.goto(url);
    return await measure((fn) => session.page.evaluate(fn), compositing ? 'webkit-composited' : 'webkit', build);
  } finally {
    await session.close();
  }
}

function run(name: string, url: string, build: string): Promise<Row> {
  if (name === 'firefox') return runFirefox(url, build);
  if (name === 'chromium') return runChromium(url, build);
  if (name === 'webkit' || name === 'webkit-composited') return runWebKit(url, build, name === 'webkit-composited');
  throw new Error(`unknown browser ${name}: firefox, chromium, webkit or webkit-composited`);
}

function buildApp(threads: string): string {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), `whycam-bench-${threads}-`));
  const env: NodeJS.ProcessEnv = { ...process.env, NODE_ENV: 'production' };
  if (threads !== 'auto') env['VITE_WASM_THREADS'] = threads;
  execFileSync('npx', ['vite', 'build', '--outDir', out, '--emptyOutDir', '--logLevel', 'error'], {
    cwd: root,
    stdio: 'inherit',
    env,
  });
  return out;
}

const rows: Row[] = [];
for (const threads of threadVariants) {
  const dir = buildApp(threads);
  const server = new StaticServer(dir);
  await server.start();
  try {
    for (const name of browsers) {
      const url = `${server.url}/?backend=wasm`;
      // A browser that draws no heatmap at all is a row too (0/s, and why), not the end of the run.
      const row = await run(name, url, threads).catch((e: unknown): Row => ({
        browser: name,
        build: threads,
        wasmThreads: '?',
        fps: 0,
        p50: null,
        p95: null,
        forwardMs: null,
        preprocessMs: null,
        heatmapMs: null,
        waitMs: null,
        idleMs: null,
        framePath: `failed: ${(e as Error).message.slice(0, 120)}`,
        frames: 0,
      }));
      rows.push(row);
      console.error(
        `${row.browser} (build: ${threads}): ${row.fps.toFixed(1)} heatmaps/s, p50 ${row.p50?.toFixed(0)} ms`,
      );
    }
  } finally {
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const f = (x: number | null, digits = 1): string => (x === null || Number.isNaN(x) ? '–' : x.toFixed(digits));
console.log(
  `\nLive default view (${defaultView(DEFAULT_MODEL_ID).method}, ${defaultView(DEFAULT_MODEL_ID).layer}), WASM, ${seconds} s after ${WARM_FRAMES} warm-up heatmaps; ${os.cpus().length} cores\n`,
);
console.log(
  '| browser | build threads | WASM threads in use | heatmaps/s | latency p50 (ms) | p95 (ms) | frame → tensor (ms) | forward (ms) | heatmap (ms) | wait (ms) | idle, median (ms) | frames |',
);
console.log('|---|---|---|---|---|---|---|---|---|---|---|---|');
for (const r of rows) {
  console.log(
    `| ${r.browser} | ${r.build} | ${r.wasmThreads} | ${f(r.fps)} | ${f(r.p50, 0)} | ${f(r.p95, 0)} | ${f(r.preprocessMs)} | ${f(r.forwardMs)} | ${f(r.heatmapMs)} | ${f(r.waitMs)} | ${f(r.idleMs)} | ${r.framePath} |`,
  );
}
for (const build of threadVariants) {
  const cr = rows.find((r) => r.build === build && r.browser === 'chromium');
  for (const other of rows.filter((r) => r.build === build && r.browser !== 'chromium')) {
    if (!cr) break;
    console.log(
      `\nbuild ${build}: ${other.browser}/chromium rate ${f(other.fps / cr.fps, 2)}×, latency p50 ${other.p50 && cr.p50 ? f(other.p50 / cr.p50, 2) : '–'}×`,
    );
  }
}

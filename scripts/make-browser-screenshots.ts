/**
 * The README's browser comparison: the same build, the same drawn picture and the same view in
 * WebKit (WebKitGTK's MiniBrowser) and in Chromium at an iPad's 1024×768, side by side in
 * docs/. Builds the app into test-results/screenshots-app and serves it itself:
 *   npx tsc -p tsconfig.tools.json --noEmit false --outDir build/tools --rootDir . && node build/tools/scripts/make-browser-screenshots.js
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import type { WhyCamStatus } from '../src/app/automation.js';
import { StaticServer } from '../src/node/static-server.js';
import { chromiumLaunchOptions } from './chromium.js';
import { launchWebKit } from './webkit.js';

const ROOT = process.cwd();
const APP = path.join(ROOT, 'test-results', 'screenshots-app');
const DOCS = path.join(ROOT, 'docs');
const [WIDTH, HEIGHT] = [1024, 768];

/** In the page: a yellow ball on a lawn under a blue sky (no third-party photo), opened as a still picture. */
async function openScene(): Promise<void> {
  const w = window as unknown as { whycam?: { openImage(b: Blob): Promise<void> } };
  while (!w.whycam) await new Promise((r) => setTimeout(r, 100));
  const c = new OffscreenCanvas(640, 480);
  const g = c.getContext('2d')!;
  g.fillStyle = '#6fa8dc';
  g.fillRect(0, 0, 640, 260);
  g.fillStyle = '#4e8f3a';
  g.fillRect(0, 260, 640, 220);
  const ball = g.createRadialGradient(300, 280, 10, 320, 300, 90);
  ball.addColorStop(0, '#fff59d');
  ball.addColorStop(1, '#c9a400');
  g.fillStyle = ball;
  g.beginPath();
  g.arc(320, 300, 90, 0, Math.PI * 2);
  g.fill();
  await w.whycam.openImage(await c.convertToBlob({ type: 'image/png' }));
}

function explained(): boolean {
  const s = (window as unknown as { whycam?: { status(): WhyCamStatus } }).whycam?.status();
  return !!s && s.mode === 'image' && s.frames > 0;
}

execFileSync('npx', ['vite', 'build', '--outDir', APP, '--emptyOutDir', '--logLevel', 'warn'], {
  stdio: 'inherit',
  env: { ...process.env, NODE_ENV: 'production' },
});
const server = new StaticServer(APP);
await server.start();
const url = `${server.url}/?backend=wasm&camera=off`;
try {
  const webkit = await launchWebKit({ camera: null, width: WIDTH, height: HEIGHT });
  try {
    await webkit.page.goto(url);
    await webkit.page.evaluate(openScene);
    while (!(await webkit.page.evaluate(explained))) await new Promise((r) => setTimeout(r, 200));
    await new Promise((r) => setTimeout(r, 500));
    fs.writeFileSync(path.join(DOCS, 'webkit-1024x768.png'), await webkit.page.screenshot());
  } finally {
    await webkit.close();
  }
  const browser = await chromium.launch(chromiumLaunchOptions());
  try {
    const page = await browser.newPage({ viewport: { width: WIDTH, height: HEIGHT } });
    await page.goto(url);
    await page.evaluate(openScene);
    await page.waitForFunction(explained, null, { timeout: 120_000 });
    await page.waitForTimeout(500);
    await page.screenshot({ path: path.join(DOCS, 'chromium-1024x768.png') });
  } finally {
    await browser.close();
  }
} finally {
  await server.stop();
}
console.log('docs/webkit-1024x768.png, docs/chromium-1024x768.png');

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
import { openDrawnScene } from './drawn-scene.js';
import { launchWebKit } from './webkit.js';

const ROOT = process.cwd();
const APP = path.join(ROOT, 'test-results', 'screenshots-app');
const DOCS = path.join(ROOT, 'docs');
const [WIDTH, HEIGHT] = [1024, 768];

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
    await webkit.page.evaluate(openDrawnScene);
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
    await page.evaluate(openDrawnScene);
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

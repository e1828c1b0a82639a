/**
 * The README's timeline picture: the Pomeranian clip (../shared/video) explained frame by frame,
 * paused at 4 s, with the timeline under the picture. Builds the app into
 * test-results/screenshots-app and serves it itself:
 *   npx tsc -p tsconfig.tools.json --noEmit false --outDir build/tools --rootDir . && node build/tools/scripts/make-video-screenshot.js
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { StaticServer } from '../src/node/static-server.js';
import { chromiumLaunchOptions } from './chromium.js';

const ROOT = process.cwd();
const APP = path.join(ROOT, 'test-results', 'screenshots-app');
const CLIP = path.join(ROOT, '..', 'shared', 'video', 'pomeranian_sofa.mp4');
const OUT = path.join(ROOT, 'docs', 'video-timeline.png');

execFileSync('npx', ['vite', 'build', '--outDir', APP, '--emptyOutDir', '--logLevel', 'warn'], {
  stdio: 'inherit',
  env: { ...process.env, NODE_ENV: 'production' },
});
const server = new StaticServer(APP);
await server.start();
try {
  const browser = await chromium.launch(chromiumLaunchOptions());
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on('crash', () => console.error('page crashed'));
    page.on('close', () => console.error('page closed'));
    browser.on('disconnected', () => console.error('browser gone'));
    await page.goto(`${server.url}/?backend=wasm&camera=off`);
    await page.waitForFunction(() => window.whycam?.status().ready, null, { timeout: 120_000 });
    const b64 = fs.readFileSync(CLIP).toString('base64');
    await page.evaluate(async (b64) => {
      const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      await window.whycam!.openVideo(new File([bytes], 'pomeranian_sofa.mp4', { type: 'video/mp4' }));
    }, b64);
    console.log('opened');
    await page.evaluate(async () => {
      await window.whycam!.explainVideo({ webm: false });
      window.whycam!.seekVideo(4.02);
    });
    console.log('explained');
    await page.waitForFunction(() => {
      const s = window.whycam!.status();
      return s.video?.frame === 100 && s.answers?.source === 'image';
    });
    await page.waitForTimeout(500);
    await page.screenshot({ path: OUT });
  } finally {
    await browser.close();
  }
} finally {
  await server.stop();
}
console.log(path.relative(ROOT, OUT));

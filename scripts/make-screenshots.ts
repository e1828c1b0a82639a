/**
 * Takes the web-app manifest's screenshots (public/screenshots/) of the built app in still-image
 * mode on a drawn scene (no third-party photo ships with the app). Needs `npm run build` and Chromium:
 *   npx tsc -p tsconfig.tools.json --noEmit false --outDir /tmp/shots --rootDir . && node /tmp/shots/scripts/make-screenshots.js
 * (with the app served by `npm start` on port 4173, or WHYCAM_URL).
 * Then the README's: presentation mode wide and on a phone held upright, and two views side by side.
 */
import path from 'node:path';
import { chromium, type Page } from '@playwright/test';
import { chromiumLaunchOptions } from './chromium.js';
import { openDrawnScene } from './drawn-scene.js';

const OUT = path.resolve('public/screenshots');
const APP = process.env['WHYCAM_URL'] ?? 'http://127.0.0.1:4173';
const browser = await chromium.launch(chromiumLaunchOptions());

/** Opens the app on the drawn scene and waits for its first heatmap. */
async function openScene(page: Page, query = ''): Promise<void> {
  await page.goto(`${APP}/?backend=wasm&camera=off&method=layercam${query}`);
  await page.waitForFunction(() => window.whycam !== undefined, null, { timeout: 60_000 });
  await page.evaluate(openDrawnScene);
  await page.waitForFunction(() => window.whycam!.status().frames > 0, null, { timeout: 120_000 });
}

for (const [name, width, height] of [
  ['wide', 1280, 720],
  ['narrow', 540, 960],
] as const) {
  const page = await browser.newPage({ viewport: { width, height } });
  await openScene(page);
  await page.waitForTimeout(500);
  await page.screenshot({ path: path.join(OUT, `${name}.png`) });
  await page.close();
}

// Presentation mode, once the controls have gone (the pointer rests).
for (const [name, width, height] of [
  ['presentation-wide', 1280, 720],
  ['presentation-phone', 390, 844],
] as const) {
  const page = await browser.newPage({ viewport: { width, height } });
  await openScene(page, '&presentation=1');
  await page.waitForFunction(() => document.querySelector('whycam-app')!.hasAttribute('idle'), null, {
    timeout: 60_000,
  });
  await page.waitForTimeout(600);
  await page.screenshot({ path: path.join(OUT, `${name}.png`) });
  await page.close();
}

// Side by side at a classroom laptop's 1366×768: CAM next to the default view.
{
  const page = await browser.newPage({ viewport: { width: 1366, height: 768 } });
  await openScene(page);
  await page.evaluate(() => window.whycam!.set({ compare: { method: 'cam' } }));
  await page.waitForFunction(() => window.whycam!.status().views !== null, null, { timeout: 60_000 });
  await page.waitForTimeout(500);
  await page.screenshot({ path: path.join(OUT, 'side-by-side.png') });
  await page.close();
}
await browser.close();
console.log(`screenshots written to ${OUT}`);

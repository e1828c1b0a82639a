import { chromium } from 'playwright-core';
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true,
  args: ['--no-sandbox','--disable-background-networking','--disable-component-update','--disable-sync','--no-first-run','--enable-unsafe-webgpu',
  '--use-fake-ui-for-media-stream','--use-fake-device-for-media-stream','--use-file-for-fake-video-capture=/work/shared/video/pomeranian_sofa_640x360_30fps.mjpeg']});
const ctx = await browser.newContext({ viewport: {width: 1280, height: 800} });
const page = await ctx.newPage();
await page.addInitScript(() => { window.lt = []; new PerformanceObserver((l) => { for (const e of l.getEntries()) window.lt.push([Math.round(e.startTime), Math.round(e.duration)]); }).observe({ type: 'longtask', buffered: true }); });
await page.goto('http://127.0.0.1:4173/' + (process.argv[2] || '?backend=wasm'));
await page.waitForTimeout(4000);
await browser.startTracing(page, { path: '/tmp/exp/trace.json', categories: ['devtools.timeline'] });
const t0 = Date.now();
while (Date.now() - t0 < 20000) { await page.evaluate(() => window.whycam.status()); await page.waitForTimeout(100); }
await browser.stopTracing();
console.log(JSON.stringify(await page.evaluate(() => window.lt)), (await page.evaluate(() => window.whycam.status())).fps);
await browser.close();

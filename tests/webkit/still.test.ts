import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PNG } from 'pngjs';
import { launchWebKit, type WebKitPage, type WebKitSession } from '../../scripts/webkit.js';
import { StaticServer } from '../../src/node/static-server.js';
import { explainSherlock, gradcamOnTheHead } from '../helpers/browser-flows.js';
import { APP_DIR, browserApp } from './app.js';

/** Strongly blue pixels (jet's cold end) in the screenshot, inside the live view's box. */
async function bluePixelsInView(page: WebKitPage): Promise<number> {
  const box = await page.evaluate(() => {
    const r = document
      .querySelector('whycam-app')!
      .shadowRoot!.querySelector('whycam-live-view')!
      .getBoundingClientRect();
    return { x: r.x, y: r.y, width: r.width, height: r.height };
  });
  // Two rendering updates later, as a person would look.
  await page.evaluate(
    () => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(r, 100)))),
  );
  const png = PNG.sync.read(await page.screenshot());
  let blue = 0;
  for (let y = Math.ceil(box.y); y < box.y + box.height; y += 2) {
    for (let x = Math.ceil(box.x); x < box.x + box.width; x += 2) {
      const i = (y * png.width + x) * 4;
      if (png.data[i + 2]! > png.data[i]! + 60 && png.data[i + 2]! > png.data[i + 1]! + 20) blue++;
    }
  }
  return blue;
}

describe('WebKit, still image', () => {
  const server = new StaticServer(APP_DIR);
  let webkit: WebKitSession;

  beforeAll(async () => {
    await server.start();
    webkit = await launchWebKit({ camera: null });
  });
  afterAll(async () => {
    await webkit?.close();
    await server.stop();
  });

  it('explains sherlock.jpg as a golden retriever, with the Grad-CAM map on its head', async () => {
    const page = webkit.page;
    await page.goto(`${server.url}/?camera=off`);
    const app = browserApp(page);
    const shown = await explainSherlock(app);
    // The map is on screen, not only in the status: the jet overlay's blues over a photo that has
    // none (a dog on a wooden floor). WebKit without compositing once dropped a still map's draw.
    expect(await bluePixelsInView(page)).toBeGreaterThan(1000);
    // The line on the picture says what a still picture has: no rate, the time its explanation took.
    const line = await page.evaluate(
      () =>
        document.querySelector('whycam-app')!.shadowRoot!.querySelector('whycam-hud-line')?.shadowRoot?.textContent ??
        '',
    );
    expect(line.replace(/\s+/g, ' ').trim()).toMatch(
      /^still picture · explained in \d+ ms · wasm · HiResCAM · conv_pw_11_relu$/,
    );

    const s = await gradcamOnTheHead(app, shown);
    // A still picture is no measure of live speed: the slow-device notice does not come up over it.
    expect(s.notices.some((n) => n.topic === 'slow')).toBe(false);
  });
});

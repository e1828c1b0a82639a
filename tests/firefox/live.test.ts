import type { Page } from 'puppeteer-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { launchFirefox, type FirefoxSession } from '../../scripts/firefox.js';
import { StaticServer } from '../../src/node/static-server.js';
import { APP_DIR, set, status, ISOLATED_THREADS_NOTE, waitForStatus } from './app.js';

// The live app in Firefox: its fake camera (a synthetic pattern, so no content checks here; the
// photos in still.test.ts check content), explained on WASM, as `npm start` serves it (isolated).

describe('Firefox, live camera', () => {
  const server = new StaticServer(APP_DIR);
  let firefox: FirefoxSession;
  let page: Page;

  beforeAll(async () => {
    await server.start();
    firefox = await launchFirefox({ camera: 'fake', allowCamera: true });
  });
  afterAll(async () => {
    await firefox?.close();
    await server.stop();
  });
  beforeEach(async () => {
    page = await firefox.browser.newPage();
    await page.goto(`${server.url}/?backend=wasm`);
  });

  it('explains the camera frame after frame on WASM, cross-origin isolated', async () => {
    const first = await waitForStatus(page, (x) => x.frames > 3, 'heatmaps from the camera');
    expect(first.backend).toBe('wasm');
    expect(first.mode).toBe('camera');
    expect(first.method).toBe('layercam');
    expect(first.layer).toBe('conv_pw_9_relu');
    expect(first.heatmap).toMatchObject({ width: 14, height: 14 });
    expect(Math.max(...first.heatmap!.data)).toBeCloseTo(1, 5);
    expect(Math.min(...first.heatmap!.data)).toBeGreaterThanOrEqual(0);
    expect(first.predictions.length).toBeGreaterThan(0);
    // Frames keep coming: the count grows while the camera runs.
    const later = await waitForStatus(page, (x) => x.frames >= first.frames + 10, 'ten more heatmaps');
    expect(later.fps).toBeGreaterThan(0);
    expect(later.latencyMs.p50).toBeGreaterThan(0);
    expect(later.workerRestarts).toBe(0);
    // The page is isolated (the server sends COOP/COEP): shared memory is there, and the note says why one thread.
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
    const note = later.backendNotes.find((n) => n.startsWith('wasm threads:'));
    expect(note).toMatch(ISOLATED_THREADS_NOTE);
  });

  it('switching the method takes effect on the next heatmaps without restarting the worker', async () => {
    let s = await waitForStatus(page, (x) => x.frames > 3, 'heatmaps from the camera');
    const starts = s.workerStarts;
    const since = s.frames;
    await set(page, { method: 'gradcam' });
    s = await waitForStatus(
      page,
      (x) => x.method === 'gradcam' && x.recent.some((r) => r.frame > since && r.method === 'gradcam'),
      'a Grad-CAM heatmap',
    );
    expect(s.heatmap!.width).toBe(14);
    // CAM is defined at the last conv map only: the layer follows, and the heatmap is 7×7.
    const beforeCam = s.frames;
    await set(page, { method: 'cam' });
    s = await waitForStatus(
      page,
      (x) => x.method === 'cam' && x.frames > beforeCam && x.heatmap?.width === 7,
      'a CAM heatmap',
    );
    expect(s.layer).toBe('conv_pw_13_relu');
    // The one-key toggle goes back to the default view.
    await page.keyboard.press('c');
    s = await waitForStatus(
      page,
      (x) => x.method === 'layercam' && x.layer === 'conv_pw_9_relu' && x.heatmap?.width === 14,
      'the default view again',
    );
    expect(s.workerStarts).toBe(starts);
    expect(s.workerRestarts).toBe(0);
    expect((await status(page))!.error).toBeNull();
  });
});

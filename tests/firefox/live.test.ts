import fs from 'node:fs';
import type { Page } from 'puppeteer-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { launchFirefox, type FirefoxSession } from '../../scripts/firefox.js';
import { StaticServer } from '../../src/node/static-server.js';
import { photo } from '../helpers/shared.js';
import { APP_DIR, massInBox, set, status, ISOLATED_THREADS_NOTE, waitForStatus } from './app.js';

// The live app in Firefox: its fake camera (a synthetic pattern), explained on WASM, as `npm start`
// serves it (isolated). For what the map shows, the camera is a dog: a stream the page paints from a
// photo (Firefox's fake device plays no file), taken through the same getUserMedia path.

/** The dog's head in sherlock.jpg (960×640), hand-measured (as in still.test.ts). */
const HEAD: [number, number, number, number] = [375, 30, 830, 395];

/** Before the app starts: getUserMedia answers with a 960×640 canvas stream showing sherlock.jpg, repainted every frame. */
async function cameraShowing(page: Page, file: string): Promise<void> {
  const jpeg = fs.readFileSync(file).toString('base64');
  await page.evaluateOnNewDocument((data: string) => {
    const picture = new Image();
    picture.src = `data:image/jpeg;base64,${data}`;
    navigator.mediaDevices.getUserMedia = async () => {
      await picture.decode();
      const canvas = document.createElement('canvas');
      canvas.width = picture.naturalWidth;
      canvas.height = picture.naturalHeight;
      const context = canvas.getContext('2d')!;
      const paint = (): void => {
        context.drawImage(picture, 0, 0);
        requestAnimationFrame(paint);
      };
      paint();
      return canvas.captureStream(30);
    };
  }, jpeg);
}

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
    expect(first.method).toBe('hirescam');
    expect(first.layer).toBe('conv_pw_11_relu');
    expect(first.heatmap).toMatchObject({ width: 14, height: 14 });
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

  it('a dog in front of the camera: golden retriever, with the map on its head, frame after frame', async () => {
    const dog = await firefox.browser.newPage();
    try {
      await cameraShowing(dog, photo('sherlock_golden_retriever.jpg'));
      // Grad-CAM at the 7×7 map (MATLAB's view), whose map the still photo's test holds to the head.
      await dog.goto(`${server.url}/?backend=wasm&method=gradcam&layer=conv_pw_13_relu`);
      const s = await waitForStatus(dog, (x) => x.mode === 'camera' && x.frames > 0, 'heatmaps from the dog');
      expect(s.region).toEqual({ x: 160, y: 0, width: 640, height: 640 });
      // Over several frames, the camera's dog is what the still photo's is: the head holds most of the map.
      for (let i = 1; i <= 3; i++) {
        const now = await waitForStatus(dog, (x) => x.frames >= s.frames + i, `heatmap ${i} more`);
        expect(now.predictions[0]).toMatchObject({ classIndex: 207, label: 'golden retriever' });
        expect(now.layer).toBe('conv_pw_13_relu');
        expect(massInBox(now, HEAD)).toBeGreaterThan(0.5);
      }
    } finally {
      await dog.close();
    }
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
      (x) => x.method === 'hirescam' && x.layer === 'conv_pw_11_relu' && x.heatmap?.width === 14,
      'the default view again',
    );
    expect(s.workerStarts).toBe(starts);
    expect(s.workerRestarts).toBe(0);
    expect((await status(page))!.error).toBeNull();
  });
});

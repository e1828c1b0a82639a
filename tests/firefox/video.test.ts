import fs from 'node:fs';
import path from 'node:path';
import type { Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchFirefox, type FirefoxSession } from '../../scripts/firefox.js';
import { StaticServer } from '../../src/node/static-server.js';
import type { WhyCamApi } from '../../src/app/automation.js';
import { photo, SHARED } from '../helpers/shared.js';
import { APP_DIR, openPhoto, status, waitForStatus } from './app.js';

const CLIP = path.join(SHARED, 'video', 'pomeranian_sofa.mp4');

type Api = Window & { whycam: WhyCamApi; __files: Record<string, File> };

/** Puts the clip into the page as `window.__files[name]`. */
async function putClip(page: Page, name: string): Promise<void> {
  await page.evaluate(
    (b64, n) => {
      const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      const w = window as unknown as Api;
      (w.__files ??= {})[n] = new File([bytes], n, { type: 'video/mp4' });
    },
    fs.readFileSync(CLIP).toString('base64'),
    name,
  );
}

// Firefox decodes H.264 through the system's FFmpeg (Debian's libavcodec), for the <video> and for WebCodecs alike.
describe('Firefox, a video file', () => {
  const server = new StaticServer(APP_DIR);
  let firefox: FirefoxSession;

  beforeAll(async () => {
    await server.start();
    firefox = await launchFirefox({ camera: null });
  });
  afterAll(async () => {
    await firefox?.close();
    await server.stop();
  });

  it(
    'plays the Pomeranian clip with heatmaps, and explains every 10th frame of it as a whole',
    { timeout: 360_000 },
    async () => {
      const page = await firefox.browser.newPage();
      await page.goto(`${server.url}/?backend=wasm&camera=off`);
      await waitForStatus(page, (s) => s.ready, 'ready');
      // Firefox's first explanations are slow (WASM compiled lazily, seconds): warm up on a photo, so that the clip's frames are explained as it plays.
      await openPhoto(page, photo('sherlock_golden_retriever.jpg'));
      await waitForStatus(page, (s) => s.mode === 'image' && s.frames > 0, 'the photo explained');
      await putClip(page, 'pomeranian_sofa.mp4');
      const opened = await page.evaluate(() => {
        const w = window as unknown as Api;
        return w.whycam.openVideo(w.__files['pomeranian_sofa.mp4']!);
      });
      expect(opened, JSON.stringify((await status(page))?.notices)).toBe(true);
      // Heatmaps of the playing clip (on a busy machine only a few before its 10 s end), or it ended first.
      const playing = await waitForStatus(
        page,
        (s) => (s.mode === 'video' && s.frameAcks.done >= 1 && s.answers?.source === 'camera') || !!s.video?.paused,
        'heatmaps of the playing clip',
      );
      expect(playing.frameAcks.done).toBeGreaterThanOrEqual(1);
      expect(playing.video).toMatchObject({ frames: 244, paused: false });
      expect([259, 260]).toContain(playing.predictions[0]!.classIndex);

      const clip = await page.evaluate(async () => {
        const r = await (window as unknown as Api).whycam.explainVideo({ every: 10 });
        return {
          frames: r.frames.length,
          decoded: r.decodedFrames,
          tops: r.frames.map((f) => f.predictions[0]!.classIndex),
          webm: r.webm?.size ?? 0,
          encoder: r.webmEncoder ?? r.webmError,
        };
      });
      expect(clip).toMatchObject({ frames: 25, decoded: 244, encoder: 'webcodecs' });
      expect(clip.tops.every((t) => t === 259 || t === 260)).toBe(true);
      expect(clip.webm).toBeGreaterThan(10_000);
      // Afterwards the paused frame is explained again, as a still picture.
      await waitForStatus(page, (s) => s.frozen && s.answers?.source === 'image', 'the paused frame');
    },
  );
});

import type { Page } from '@playwright/test';
import { expect, set, status, test, waitForStatus } from './fixtures.js';

// Without MediaStreamTrackProcessor (Firefox, Safari) the page sends frames one by one and the
// worker acknowledges each (done, dropped or failed). Whatever happens to a frame, the next ones flow.

test.beforeEach(async ({ page }) => {
  await page.addInitScript(() => {
    delete (window as { MediaStreamTrackProcessor?: unknown }).MediaStreamTrackProcessor;
  });
  await page.goto('/?backend=wasm');
  expect(await page.evaluate(() => 'MediaStreamTrackProcessor' in window)).toBe(false);
  await waitForStatus(page, (x) => x.frames > 3, 120_000, 'frames through the fallback path');
});

/** Waits for `n` more painted heatmaps than now, from camera frames. */
async function moreFrames(page: Page, n: number, what: string): Promise<void> {
  const before = (await status(page)).frames;
  const s = await waitForStatus(page, (x) => x.mode === 'camera' && x.frames >= before + n, 60_000, what);
  expect(s.openFrames).toBeLessThanOrEqual(2);
}

test('a frame that fails to explain is acknowledged, and the frames after it are explained', async ({ page }) => {
  await page.evaluate(() => window.whycam!.drill('fail-frame'));
  await waitForStatus(page, (x) => x.frameAcks.failed === 1, 30_000, 'the failed frame acknowledged');
  await moreFrames(page, 5, 'frames after the failed one');
  // The failure's notice is gone once frames are explained again.
  await expect(page.locator('whycam-notice[data-topic=request]')).toHaveCount(0);
});

test('a model switch drops the frames sent meanwhile, and the new model gets frames', async ({ page }) => {
  await set(page, { model: 'mobilenet_v1_0.25_224' });
  const s = await waitForStatus(page, (x) => x.ready && x.model === 'mobilenet_v1_0.25_224', 60_000, 'the fast model');
  expect(s.frameAcks.dropped['no-model'] ?? 0).toBeGreaterThan(0);
  await moreFrames(page, 5, 'frames on the new model');
});

test('a hidden page drops frames; shown again, frames flow', async ({ page }) => {
  const setHidden = (hidden: boolean) =>
    page.evaluate((h) => {
      Object.defineProperty(document, 'hidden', { configurable: true, get: () => h });
      Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => (h ? 'hidden' : 'visible') });
      document.dispatchEvent(new Event('visibilitychange'));
    }, hidden);
  await setHidden(true);
  // While hidden, frames are dropped unexplained (at most the ones already being explained finish).
  const first = await status(page);
  const hidden = await waitForStatus(
    page,
    (x) => (x.frameAcks.dropped.paused ?? 0) >= 5,
    30_000,
    'frames dropped while hidden',
  );
  expect(hidden.frames - first.frames).toBeLessThanOrEqual(2);
  await setHidden(false);
  await moreFrames(page, 5, 'frames after the page is shown');
});

test('a restarted worker gets frames again', async ({ page }) => {
  await page.evaluate(() => window.whycam!.drill('crash'));
  await waitForStatus(page, (x) => x.workerRestarts === 1, 30_000, 'the restart');
  await moreFrames(page, 5, 'frames from the new worker');
});

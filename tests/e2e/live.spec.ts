import { observeLongTasks, takeLongTasks } from '../../scripts/chromium.js';
import type { WhyCamStatus } from '../../src/app/automation.js';
import { expect, massInBox, set, status, test, waitForStatus } from './fixtures.js';

// The live app on WASM, the real-time backend of these CPU-only machines, with the Pomeranian
// clip as the camera (640×360, 30 fps).

/** The dog in the Pomeranian clip, in frame pixels (hand-measured; it sits still on the sofa). */
const DOG: [number, number, number, number] = [270, 80, 490, 290];
const isDog = (i: number): boolean => i >= 151 && i <= 268;

test.beforeEach(async ({ page }) => {
  await page.addInitScript(observeLongTasks);
  await page.goto('/?backend=wasm');
});

test('shows the camera and classifies the dog, with the heatmap on it', async ({ page }) => {
  // How soon the first heatmap comes is a benchmark figure (npm run bench); here it only has to come.
  const s = await waitForStatus(
    page,
    (x) => x.frames > 0 && x.predictions.slice(0, 3).some((p) => isDog(p.classIndex)),
    90_000,
    'a dog in the top 3',
  );
  const video = await page.evaluate(() => {
    const v = document
      .querySelector('whycam-app')!
      .shadowRoot!.querySelector('whycam-live-view')!
      .shadowRoot!.querySelector('video')!;
    return { width: v.videoWidth, height: v.videoHeight, time: v.currentTime, paused: v.paused };
  });
  expect(video).toMatchObject({ width: 640, height: 360, paused: false });
  expect(s.backend).toBe('wasm');
  expect(s.mode).toBe('camera');
  expect(s.method).toBe('hirescam');
  expect(s.layer).toBe('conv_pw_11_relu');
  expect(s.region).toEqual({ x: 140, y: 0, width: 360, height: 360 });
  // Over a few frames, most of the heatmap's mass is on the dog (which covers 34% of the explained square).
  const shares: number[] = [];
  for (let i = 0; i < 5; i++) {
    const now = await waitForStatus(page, (x) => x.frames > s.frames + 2 * i, 10_000);
    shares.push(massInBox(now, DOG));
  }
  shares.sort((a, b) => a - b);
  expect(shares[2]).toBeGreaterThan(0.5);
});

test('switching the method (control and set) takes effect within 3 frames, without restarting the worker', async ({
  page,
}) => {
  let s = await waitForStatus(page, (x) => x.frames > 3, 120_000, 'the first heatmaps');
  const starts = s.workerStarts;
  /** Painted frames from `since` until the first one showing `method` (1 = the very next frame). */
  const framesUntil = (x: WhyCamStatus, method: string, since: number): number =>
    x.recent.find((r) => r.frame > since && r.method === method)!.frame - since;
  const method = page.locator('whycam-controls').locator('#method');
  // Count from the moment the control changes, not from when the test's command left.
  await method.evaluate((select) =>
    select.addEventListener(
      'change',
      () => {
        const w = window as Window & { switchedAt?: number };
        w.switchedAt = w.whycam!.status().frames;
      },
      { once: true },
    ),
  );
  await method.selectOption('gradcam');
  const f0 = await page.evaluate(() => (window as Window & { switchedAt?: number }).switchedAt!);
  s = await waitForStatus(page, (x) => x.method === 'gradcam', 10_000, 'Grad-CAM');
  expect(framesUntil(s, 'gradcam', f0)).toBeLessThanOrEqual(3);
  // Through the automation API, counted from the very moment of the call.
  const f1 = await page.evaluate(() => {
    const api = window.whycam!;
    const frames = api.status().frames;
    api.set({ method: 'cam' });
    return frames;
  });
  s = await waitForStatus(page, (x) => x.method === 'cam', 10_000, 'CAM');
  expect(framesUntil(s, 'cam', f1)).toBeLessThanOrEqual(3);
  expect(s.layer).toBe('conv_pw_13_relu');
  // The one-key toggle goes from CAM to the default view (HiResCAM at 14×14) and back.
  await page.keyboard.press('c');
  s = await waitForStatus(
    page,
    (x) => x.method === 'hirescam' && x.layer === 'conv_pw_11_relu',
    10_000,
    'back from CAM',
  );
  await page.keyboard.press('c');
  await waitForStatus(page, (x) => x.method === 'cam', 10_000, 'CAM again');
  expect(s.workerStarts).toBe(starts);
  expect(s.workerRestarts).toBe(0);
});

test('a pinned class is explained; the layer sets the heatmap resolution', async ({ page }) => {
  await waitForStatus(page, (x) => x.frames > 2, 120_000, 'the first heatmaps');
  await set(page, { classIndex: 259 });
  let s = await waitForStatus(page, (x) => x.target?.classIndex === 259, 10_000, 'Pomeranian pinned');
  expect(s.classIndex).toBe(259);
  await set(page, { method: 'gradcam', layer: 'conv_pw_13_relu' });
  s = await waitForStatus(page, (x) => x.layer === 'conv_pw_13_relu' && x.method === 'gradcam', 10_000);
  expect([s.heatmap!.width, s.heatmap!.height]).toEqual([7, 7]);
  expect(s.target!.classIndex).toBe(259);
  await set(page, { layer: 'conv_pw_11_relu' });
  s = await waitForStatus(page, (x) => x.layer === 'conv_pw_11_relu', 10_000);
  expect([s.heatmap!.width, s.heatmap!.height]).toEqual([14, 14]);
  // Clicking a prediction pins it. Frozen, so that the list holds still while the test clicks.
  await set(page, { classIndex: null, frozen: true });
  s = await waitForStatus(page, (x) => x.frozen && x.classIndex === null && x.mode === 'camera', 5_000);
  const frozenAt = s.frames;
  s = await waitForStatus(page, (x) => x.frames > frozenAt, 10_000, 'the frozen frame explained');
  const second = s.predictions[1]!.classIndex;
  await page.locator('whycam-predictions').locator('button:not(.not)').nth(1).click();
  s = await waitForStatus(page, (x) => x.target?.classIndex === second, 10_000, 'the clicked class explained');
  expect(s.classIndex).toBe(second);
  expect(s.frozen).toBe(true);
});

test('the HUD agrees with what the test measures; no long task per frame, no leaks over 300 frames', async ({
  page,
}) => {
  const base = await waitForStatus(page, (x) => x.frames > 20, 120_000, 'the first 20 heatmaps');
  await takeLongTasks(page, { clear: true });
  // Measure the heatmap rate and the camera rate ourselves, inside the page, over the same two
  // seconds the app's own meters look back over (a longer window disagrees on a machine whose load varies).
  const m = await page.evaluate(async () => {
    const v = document
      .querySelector('whycam-app')!
      .shadowRoot!.querySelector('whycam-live-view')!
      .shadowRoot!.querySelector('video')!;
    let presented = 0;
    const tick = (): void => {
      presented++;
      v.requestVideoFrameCallback(tick);
    };
    v.requestVideoFrameCallback(tick);
    const t0 = performance.now();
    const f0 = window.whycam!.status().frames;
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const s = window.whycam!.status();
    const seconds = (performance.now() - t0) / 1000;
    return { rate: (s.frames - f0) / seconds, presented: presented / seconds, fps: s.fps, cameraFps: s.cameraFps! };
  });
  expect(m.fps).toBeGreaterThan(m.rate * 0.7);
  expect(m.fps).toBeLessThan(m.rate * 1.4);
  expect(m.cameraFps).toBeGreaterThan(m.presented * 0.7);
  expect(m.cameraFps).toBeLessThan(m.presented * 1.4);
  // The panel shows the app's figure (refreshed twice a second).
  const hud = page.locator('whycam-hud');
  await expect(hud.locator('[data-hud=rate]')).toHaveText(/^\d+\.\d$/);
  expect(Number(await hud.locator('[data-hud=rate]').textContent())).toBeGreaterThan(0);
  const s = await status(page);
  // Latency: at least the worker's own time per frame, and what the stages add up to.
  const stages = s.stages!;
  const work = stages.preprocessMs + stages.forwardMs + stages.heatmapMs + stages.readbackMs;
  expect(s.latencyMs.p50!).toBeGreaterThan(work);
  expect(s.latencyMs.p95!).toBeGreaterThanOrEqual(s.latencyMs.p50!);
  await expect(hud.locator('[data-hud=latency]')).toHaveText(/^p50 \d+ ms · p95 \d+ ms$/);

  // Tensors and open VideoFrames stay flat while 300 more frames go by.
  const before = await status(page);
  const after = await waitForStatus(page, (x) => x.frames >= before.frames + 300, 120_000, '300 more frames');
  expect(after.numTensors).toBe(before.numTensors);
  expect(after.openFrames).toBeLessThanOrEqual(1);
  expect(before.openFrames).toBeLessThanOrEqual(1);
  // Work the app did on the main thread for each frame would make a long task (over 50 ms) per
  // frame, hundreds here. A loaded machine stretches the odd unrelated task past 50 ms (CI's
  // 2 cores: 11 of 51–118 ms over 328 frames while the worker computed), so the test allows one in
  // ten frames; `npm run bench` prints the count and the longest task.
  const longTasks = await takeLongTasks(page);
  const frames = after.frames - base.frames;
  expect(
    longTasks.length,
    `long tasks (ms): ${longTasks.map(Math.round).join(', ')} over ${frames} frames`,
  ).toBeLessThan(frames / 10);
});

test('when Grad-CAM coincides with CAM, the HUD says so', async ({ page }) => {
  await waitForStatus(page, (x) => x.frames > 2, 120_000, 'the first heatmaps');
  await set(page, { method: 'gradcam', layer: 'auto', reduction: 'logit' });
  await waitForStatus(page, (x) => x.method === 'gradcam' && x.layer === 'conv_pw_13_relu', 10_000);
  await expect(page.locator('whycam-hud').locator('[data-hud=coincidence]')).toContainText('Grad-CAM is exactly CAM', {
    timeout: 5_000,
  });
  await set(page, { reduction: 'softmax' });
  await waitForStatus(page, (x) => x.reduction === 'softmax', 10_000);
  await expect(page.locator('whycam-hud').locator('[data-hud=coincidence]')).toHaveCount(0, { timeout: 5_000 });
});

test('where there is no MediaStreamTrackProcessor (Firefox), frames go one by one, the newest only', async ({
  page,
}) => {
  await page.addInitScript(() => {
    delete (window as Window & { MediaStreamTrackProcessor?: unknown }).MediaStreamTrackProcessor;
  });
  await page.goto('/?backend=wasm');
  expect(await page.evaluate(() => 'MediaStreamTrackProcessor' in window)).toBe(false);
  const s = await waitForStatus(page, (x) => x.frames > 30, 120_000, '30 heatmaps through the fallback path');
  expect(s.predictions.slice(0, 3).some((p) => isDog(p.classIndex))).toBe(true);
  expect(s.openFrames).toBeLessThanOrEqual(1);
  expect(s.latencyMs.p50!).toBeGreaterThan(0);
  expect(s.latencyMs.p50!).toBeLessThan(1000);
});

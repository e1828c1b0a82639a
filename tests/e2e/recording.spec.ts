import { chooseFile, expect, set, status, test, waitForStatus } from './fixtures.js';
import { CLIPS, decodeInVideoElement } from './video-helpers.js';

// Recording the live view (the fake camera plays the Pomeranian clip): what is on screen goes into
// a WebM saved on this device, as long as it was recorded.

test('a recording of N seconds of the live view decodes to N seconds, side by side included', async ({ page }) => {
  await page.goto('/?backend=wasm');
  await waitForStatus(page, (s) => s.mode === 'camera' && s.frames >= 3, 60_000, 'camera heatmaps');
  await set(page, { compare: { method: 'cam' } });
  await waitForStatus(page, (s) => s.views !== null, 30_000, 'two views');

  // The key starts it, and the bar shows the time recorded.
  await page.keyboard.press('e');
  await waitForStatus(page, (s) => s.recording.on && s.recording.elapsedMs > 0, 30_000, 'recording');
  const startedAt = await page.evaluate(() => performance.now() - window.whycam!.status().recording.elapsedMs);
  await waitForStatus(page, (s) => s.recording.elapsedMs >= 3000, 30_000, '3 s recorded');
  await expect(page.locator('[data-recording-time]')).toContainText(/● 0:0[3-9]/);
  const download = page.waitForEvent('download');
  const rec = await page.evaluate(async (startedAt) => {
    const stoppedAt = performance.now();
    const blob = await window.whycam!.stopRecording();
    (window as unknown as { __rec: Blob }).__rec = blob;
    return { seconds: (stoppedAt - startedAt) / 1000, size: blob.size, type: blob.type };
  }, startedAt);
  expect((await download).suggestedFilename()).toMatch(/^whycam-recording-.*\.webm$/);
  expect(rec.type).toBe('video/webm');
  expect((await status(page)).recording.on).toBe(false);

  const decoded = await decodeInVideoElement(page, 'window.__rec');
  expect(Math.abs(decoded.duration - rec.seconds)).toBeLessThan(0.25);
  // Both views, side by side: twice as wide as high (two 16:9 pictures).
  const size = await page.evaluate(async () => {
    const v = document.createElement('video');
    v.src = URL.createObjectURL((window as unknown as { __rec: Blob }).__rec);
    await new Promise((resolve) => (v.onloadedmetadata = resolve));
    return { width: v.videoWidth, height: v.videoHeight };
  });
  expect(size.width / size.height).toBeCloseTo((2 * 16) / 9, 1);
  expect(decoded.frames).toBeGreaterThan(rec.seconds * 5);
});

test('a file that is not a playable video leaves the camera running', async ({ page }) => {
  await page.goto('/?backend=wasm');
  const before = await waitForStatus(page, (s) => s.mode === 'camera' && s.frames >= 3, 60_000, 'camera heatmaps');
  await chooseFile(page, () => page.keyboard.press('o'), CLIPS.mjpeg);
  await expect(page.locator('.notices')).toContainText(
    'pomeranian_sofa_640x360_30fps.mjpeg is not a video this app can read: its format is not MP4, WebM or Matroska.',
  );
  const after = await waitForStatus(page, (s) => s.frames >= before.frames + 5, 30_000, 'the camera still explained');
  expect(after.mode).toBe('camera');
  expect(after.answers?.source).toBe('camera');
});

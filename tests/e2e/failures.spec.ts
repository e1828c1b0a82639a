import { expect, set, status, test, waitForStatus } from './fixtures.js';

// Every failure has a message on screen, a way forward, and recovers where it can.

test('a camera that stops mid-run gives a message, and the app resumes when it is back', async ({ page }) => {
  await page.goto('/?backend=wasm');
  await waitForStatus(page, (x) => x.frames > 5, 120_000, 'the first heatmaps');
  // What unplugging does to the page: the track ends.
  await page.evaluate(() => {
    const video = document
      .querySelector('whycam-app')!
      .shadowRoot!.querySelector('whycam-live-view')!
      .shadowRoot!.querySelector('video')!;
    (video.srcObject as MediaStream).getVideoTracks()[0]!.stop();
  });
  const notice = page.locator('whycam-notice[data-topic=camera]');
  await expect(notice).toContainText('The camera stopped', { timeout: 10_000 });
  const lost = await status(page);
  expect(lost.mode).toBe('none');
  // The fake camera is still plugged in: the app finds it again by itself.
  await expect(notice).toHaveCount(0, { timeout: 15_000 });
  const back = await waitForStatus(
    page,
    (x) => x.mode === 'camera' && x.frames > lost.frames + 5,
    30_000,
    'frames after the camera came back',
  );
  expect(back.openFrames).toBeLessThanOrEqual(1);
});

// How fast the restart comes is measured by the benchmark; here: that it comes, for the right reason.
test('a crashed or silent worker is restarted, with its settings kept', async ({ page }) => {
  await page.goto('/?backend=wasm');
  await waitForStatus(page, (x) => x.frames > 3, 120_000, 'the first heatmaps');
  await set(page, { method: 'gradcam++', classIndex: 259, layer: 'conv_pw_13_relu' });
  await waitForStatus(page, (x) => x.method === 'gradcam++' && x.target?.classIndex === 259, 30_000);
  for (const [failure, restarts, reason] of [
    ['crash', 1, 'the worker crashed'],
    ['exit', 2, 'stopped answering'],
  ] as const) {
    await page.evaluate((f) => window.whycam!.drill(f), failure);
    await waitForStatus(page, (x) => x.workerRestarts === restarts, 30_000, `restart after ${failure}`);
    await expect(page.locator('whycam-notice[data-topic=worker]')).toContainText(reason);
    const before = (await status(page)).frames;
    const s = await waitForStatus(page, (x) => x.ready && x.frames > before + 2, 30_000, `frames after ${failure}`);
    expect(s).toMatchObject({ method: 'gradcam++', classIndex: 259, layer: 'conv_pw_13_relu' });
    expect(s.target!.classIndex).toBe(259);
    await expect(page.locator('whycam-notice[data-topic=worker]')).toContainText('restarted');
  }
});

test.describe('a damaged model file on the server', () => {
  // Without a service worker: it would precache the intact file behind the test's back (its
  // requests bypass page.route) and serve that on the reloads.
  test.use({ serviceWorkers: 'block' });

  test('is named, with the fix', async ({ page }) => {
    // Each load starts a worker, picks a backend and fetches the model before it can fail: on a busy
    // machine that takes long, so the test waits for the model's notice to appear (however long that
    // takes, within the test's time) and then checks what it says.
    test.setTimeout(360_000);
    const modelNotice = () =>
      page.waitForFunction(() => window.whycam?.status().notices.some((n) => n.topic === 'model') ?? false, null, {
        timeout: 110_000,
      });
    const shard = '**/models/mobilenet_v1_0.75_224/group3-shard1of1';
    await page.route(shard, (route) =>
      route.fulfill({ status: 200, contentType: 'application/octet-stream', body: Buffer.alloc(100) }),
    );
    await page.goto('/?backend=wasm&camera=off');
    await modelNotice();
    let notice = page.locator('whycam-notice[data-topic=model]');
    await expect(notice).toContainText('group3-shard1of1 holds 100 bytes; model.json declares 864');
    await expect(notice).toContainText('npm run models');
    await expect(notice.getByRole('button', { name: 'Reload' })).toBeVisible();

    // Same length, other bytes: the checksum catches it.
    await page.unroute(shard);
    await page.route(shard, (route) =>
      route.fulfill({ status: 200, contentType: 'application/octet-stream', body: Buffer.alloc(864, 7) }),
    );
    await page.reload();
    await modelNotice();
    notice = page.locator('whycam-notice[data-topic=model]');
    await expect(notice).toContainText('group3-shard1of1 fails its checksum');

    await page.unroute(shard);
    await page.route(shard, (route) => route.fulfill({ status: 404, body: 'not found' }));
    await page.reload();
    await modelNotice();
    await expect(page.locator('whycam-notice[data-topic=model]')).toContainText('group3-shard1of1 is missing');
  });
});

test('a hidden page pauses the work; it resumes when visible', async ({ page }) => {
  await page.goto('/?backend=wasm');
  await waitForStatus(page, (x) => x.frames > 3, 120_000, 'the first heatmaps');
  // Headless Chromium keeps every page visible, so the test tells the page what a browser would.
  const setHidden = (hidden: boolean) =>
    page.evaluate((h) => {
      Object.defineProperty(document, 'hidden', { configurable: true, get: () => h });
      Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => (h ? 'hidden' : 'visible') });
      document.dispatchEvent(new Event('visibilitychange'));
    }, hidden);
  // The clock is the camera's own: the video goes on presenting frames while the page is hidden.
  await page.evaluate(() => {
    const video = document
      .querySelector('whycam-app')!
      .shadowRoot!.querySelector('whycam-live-view')!
      .shadowRoot!.querySelector('video')!;
    const w = window as Window & { cameraFrames?: number };
    w.cameraFrames = 0;
    const tick = (): void => {
      w.cameraFrames!++;
      video.requestVideoFrameCallback(tick);
    };
    video.requestVideoFrameCallback(tick);
  });
  const cameraFrames = (): Promise<number> =>
    page.evaluate(() => (window as Window & { cameraFrames?: number }).cameraFrames!);
  // How many camera frames the visible page takes to paint three heatmaps.
  const start = { camera: await cameraFrames(), frames: (await status(page)).frames };
  await waitForStatus(page, (x) => x.frames >= start.frames + 3, 30_000, 'three heatmaps');
  const perThree = (await cameraFrames()) - start.camera;
  await setHidden(true);
  const paused = (await status(page)).frames;
  // Three times that long hidden: at most the frame in flight when it hid is painted.
  const hiddenAt = await cameraFrames();
  await page.waitForFunction(
    (until) => (window as Window & { cameraFrames?: number }).cameraFrames! >= until,
    hiddenAt + 3 * perThree,
  );
  expect((await status(page)).frames).toBeLessThanOrEqual(paused + 1);
  await setHidden(false);
  await waitForStatus(page, (x) => x.frames > paused + 5, 10_000, 'frames after the page is visible again');
});

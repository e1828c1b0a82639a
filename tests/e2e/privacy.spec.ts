import fs from 'node:fs';
import type { Request } from '@playwright/test';
import { SHARED } from '../helpers/shared.js';
import { trainingPhotos } from '../helpers/teach-photos.js';
import { expect, set, status, test, waitForStatus } from './fixtures.js';
import { CLIPS, putFile } from './video-helpers.js';

// Pictures never leave the device: every request of a live session goes to the app's own origin,
// the Content-Security-Policy forbids anything else, and the service worker caches only this origin.

test('a live session talks to nothing but its own origin, under a strict CSP', async ({ page, context, baseURL }) => {
  const requests: string[] = [];
  const uploads: string[] = [];
  const record = (r: Request): void => {
    requests.push(r.url());
    if (r.method() !== 'GET' && r.method() !== 'HEAD') uploads.push(`${r.method()} ${r.url()}`);
  };
  context.on('request', record);
  await page.addInitScript(() => {
    const violations: string[] = [];
    (window as Window & { violations?: string[] }).violations = violations;
    document.addEventListener('securitypolicyviolation', (e) =>
      violations.push(`${e.violatedDirective} ${e.blockedURI}`),
    );
  });
  const response = await page.goto('/?backend=wasm');
  const csp = response!.headers()['content-security-policy']!;
  expect(csp).toContain("default-src 'self'");
  expect(csp).toContain("script-src 'self' 'wasm-unsafe-eval'");
  expect(csp).not.toContain('unsafe-inline');
  expect(csp).not.toMatch(/'unsafe-eval'/);
  await expect(page.locator('meta[http-equiv=Content-Security-Policy]')).toHaveAttribute(
    'content',
    /default-src 'self'/,
  );

  await waitForStatus(page, (s) => s.frames > 10 && s.offlineReady, 60_000);
  // Use the app the way a class would: other methods, a pinned class, the fast model, a saved picture.
  await set(page, { method: 'gradcam', classIndex: 259 });
  await set(page, { model: 'mobilenet_v1_0.25_224' });
  await waitForStatus(
    page,
    (s) => s.model === 'mobilenet_v1_0.25_224' && s.ready && s.frames > 20,
    60_000,
    'the fast model',
  );
  const download = page.waitForEvent('download');
  await page.keyboard.press('w');
  await download;
  // Teach mode: the examples go to the worker, the taught model into this device's IndexedDB, nowhere else.
  const photos = trainingPhotos(SHARED, 2)
    .slice(0, 2)
    .map((c) => c.map((p) => [...fs.readFileSync(p.file)]));
  const painted = (await status(page)).frames;
  const taught = await page.evaluate(
    async (classes) =>
      window.whycam!.teach({
        classes: classes.map((bytes, i) => ({
          name: `class ${i + 1}`,
          images: bytes.map((b) => new Blob([new Uint8Array(b)], { type: 'image/jpeg' })),
        })),
      }),
    photos,
  );
  await waitForStatus(
    page,
    (s) => s.model === taught.model && s.frames > painted + 10,
    60_000,
    'the taught model live',
  );
  // A recording of the live view, and a video file explained whole: saved here (downloads), never sent.
  await page.evaluate(() => window.whycam!.startRecording());
  await waitForStatus(page, (s) => s.recording.elapsedMs >= 1500, 30_000, 'recording');
  const recording = page.waitForEvent('download');
  await page.evaluate(async () => void (await window.whycam!.stopRecording()));
  await recording;
  await putFile(page, CLIPS.pomeranian, 'clip.mp4', 'video/mp4');
  const explained = await page.evaluate(async () => {
    const files = (window as unknown as { __files: Record<string, File> }).__files;
    await window.whycam!.openVideo(files['clip.mp4']!);
    return (await window.whycam!.explainVideo({ every: 10 })).frames.length;
  });
  expect(explained).toBe(25);

  const origin = new URL(baseURL!).origin;
  const foreign = requests.filter(
    (u) => !u.startsWith(`${origin}/`) && !u.startsWith('blob:') && !u.startsWith('data:'),
  );
  expect(foreign).toEqual([]);
  expect(uploads).toEqual([]);
  expect(requests.length).toBeGreaterThan(50);
  expect(await page.evaluate(() => (window as Window & { violations?: string[] }).violations)).toEqual([]);

  // The caches hold this origin's files only, the fast model among them (cached on first use).
  const cached = await page.evaluate(async () => {
    const urls: string[] = [];
    for (const name of await caches.keys()) for (const r of await (await caches.open(name)).keys()) urls.push(r.url);
    return { names: await caches.keys(), urls };
  });
  expect(cached.urls.every((u) => u.startsWith(`${origin}/`))).toBe(true);
  expect(cached.urls.some((u) => u.includes('/models/mobilenet_v1_0.75_224/group29-shard1of1'))).toBe(true);
  expect(cached.urls.some((u) => u.includes('/models/mobilenet_v1_0.25_224/group55-shard1of1'))).toBe(true);
  expect(cached.names.filter((n) => n.startsWith('whycam-models-'))).toHaveLength(1);
  expect((await status(page)).error).toBeNull();
});

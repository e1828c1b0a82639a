import fs from 'node:fs';
import type { Page } from '@playwright/test';
import { expect, status, test, waitForStatus } from './fixtures.js';
import { CLIPS, decodeInVideoElement, putFile } from './video-helpers.js';

// A video file as the source: it plays with the live overlay like the camera, pauses to a still
// that settings re-explain, seeks; the whole clip is explained frame by frame.

test.use({ camera: null });

const POMERANIAN = 259;
const CHOW = 260;
const FPS = 25;

async function openClip(page: Page, name: string): Promise<boolean> {
  return page.evaluate((n) => {
    const files = (window as unknown as { __files: Record<string, File> }).__files;
    return window.whycam!.openVideo(files[n]!);
  }, name);
}

test('a video file plays with the live overlay; paused, its frame is re-explained when a setting changes; seeking works', async ({
  page,
}) => {
  await page.goto('/?backend=wasm&camera=off');
  await waitForStatus(page, (s) => s.ready, 60_000, 'ready');
  await putFile(page, CLIPS.pomeranian, 'pomeranian_sofa.mp4', 'video/mp4');
  expect(await openClip(page, 'pomeranian_sofa.mp4')).toBe(true);
  // Heatmaps stream from the playing clip, as from a camera (frames grabbed one by one).
  const first = await waitForStatus(
    page,
    (s) => s.mode === 'video' && s.answers?.source === 'camera' && s.frames >= 3,
    60_000,
    'heatmaps of the playing clip',
  );
  expect(first.video).toMatchObject({ name: 'pomeranian_sofa.mp4', frames: 244, paused: false });
  expect(first.video!.duration).toBeCloseTo(9.76, 2);
  expect([POMERANIAN, CHOW]).toContain(first.predictions[0]!.classIndex);
  const later = await waitForStatus(page, (s) => s.frames >= first.frames + 5, 60_000, 'more heatmaps');
  expect(later.video!.frame).toBeGreaterThan(first.video!.frame);
  expect(later.video!.time).toBeGreaterThan(first.video!.time);
  await expect(page.locator('whycam-hud-line')).toContainText(/frame \d+ \/ 244/);

  // Paused: the frame on screen is a still picture, and a new setting re-explains it.
  await page.evaluate(() => window.whycam!.pauseVideo());
  const paused = await waitForStatus(page, (s) => s.frozen && s.answers?.source === 'image', 30_000, 'paused frame');
  expect(paused.video!.paused).toBe(true);
  await page.evaluate(() => window.whycam!.set({ method: 'gradcam', layer: 'conv_pw_13_relu' }));
  const regraded = await waitForStatus(page, (s) => s.method === 'gradcam' && s.heatmap?.width === 7, 30_000);
  expect(regraded.answers!.id).toBe(paused.answers!.id);

  // Seeking while paused shows and explains that frame; the HUD names it.
  await page.evaluate(() => window.whycam!.seekVideo(5.0));
  const seeked = await waitForStatus(
    page,
    (s) => s.video?.frame === 5 * FPS && s.answers?.source === 'image' && s.answers.id !== paused.answers!.id,
    30_000,
    'the frame at 5 s explained',
  );
  expect(seeked.method).toBe('gradcam');
  await expect(page.locator('whycam-hud-line')).toContainText('frame 126 / 244 · 5.00 s');
  await expect(page.locator('whycam-source-bar')).toContainText('frame 126 / 244');

  // Playing again streams again, from there; side by side, both views show the clip and their maps.
  await page.evaluate(() => window.whycam!.playVideo());
  await waitForStatus(page, (s) => !s.frozen && s.answers?.source === 'camera' && s.video!.time > 5, 30_000);
  await page.evaluate(() => window.whycam!.set({ compare: { method: 'cam' } }));
  const pair = await waitForStatus(page, (s) => s.views !== null && s.answers?.source === 'camera', 30_000);
  expect(pair.views!.map((v) => v.method)).toEqual(['gradcam', 'cam']);
  const second = page.locator('whycam-live-view.second');
  await expect
    .poll(() => second.evaluate((v: HTMLElement & { videoElement?: HTMLVideoElement }) => v.videoElement?.videoWidth))
    .toBe(640);
});

test('explainVideo: one result per decoded frame, the maps of those frames as photos, a WebM that decodes to the same frames', async ({
  page,
}) => {
  test.setTimeout(600_000);
  await page.goto('/?backend=wasm&camera=off');
  await waitForStatus(page, (s) => s.ready, 60_000, 'ready');
  await putFile(page, CLIPS.pomeranian, 'pomeranian_sofa.mp4', 'video/mp4');
  // The browser's own decoder, independently: how many frames the clip has.
  const reference = await decodeInVideoElement(page, `window.__files['pomeranian_sofa.mp4']`);
  expect(reference.frames).toBe(244);
  expect(await openClip(page, 'pomeranian_sofa.mp4')).toBe(true);
  await waitForStatus(page, (s) => s.mode === 'video' && s.frames > 0, 60_000);

  const summary = await page.evaluate(async () => {
    const r = await window.whycam!.explainVideo({});
    (window as unknown as { __clip: typeof r }).__clip = r;
    return {
      count: r.frames.length,
      decoded: r.decodedFrames,
      indices: r.frames.map((f) => f.index),
      times: r.frames.map((f) => f.time),
      tops: r.frames.map((f) => f.predictions[0]!.classIndex),
      targets: r.frames.map((f) => f.target.classIndex),
      top2: r.frames.map((f) => f.predictions.slice(0, 2).map((p) => p.classIndex)),
      method: r.method,
      layer: r.layer,
      fps: r.framesPerSecond,
      webm: r.webm ? r.webm.size : 0,
      encoder: r.webmEncoder,
    };
  });
  expect(summary.count).toBe(reference.frames);
  expect(summary.decoded).toBe(reference.frames);
  expect(summary.indices).toEqual([...Array(244).keys()]);
  expect(summary.times[100]).toBeCloseTo(100 / FPS, 3);
  expect(summary.targets).toEqual(summary.tops);
  // MobileNet 0.75 calls this dog a Pomeranian or a chow (SOURCES.md).
  const pomeranianTop2 = summary.top2.filter((t) => t.includes(POMERANIAN)).length;
  const pomeranianTop1 = summary.tops.filter((t) => t === POMERANIAN).length;
  console.log(
    `explainVideo: ${summary.count} frames, ${summary.fps.toFixed(1)} frames/s; Pomeranian top-1 on ${pomeranianTop1}, top-2 on ${pomeranianTop2}`,
  );
  // Pomeranian is the top class on most frames (125 of 244 here, the rest chow), and in the top two on nearly all.
  expect(pomeranianTop1).toBeGreaterThan(summary.count / 2);
  expect(pomeranianTop2).toBeGreaterThan(summary.count * 0.9);
  expect(summary.tops.every((t) => t === POMERANIAN || t === CHOW)).toBe(true);
  expect(summary.webm).toBeGreaterThan(10_000);
  expect(summary.encoder).toBe('webcodecs');
  await expect(page.locator('whycam-timeline canvas')).toBeVisible();

  // The exported WebM decodes (the browser's <video>) to the same frames and duration, within one frame.
  const webm = await decodeInVideoElement(page, `window.__clip.webm`);
  expect(Math.abs(webm.frames - 244)).toBeLessThanOrEqual(1);
  expect(Math.abs(webm.duration - 9.76)).toBeLessThanOrEqual(1 / FPS);

  // The same frames as still photos (taken from the browser's <video>, saved as PNG) give the same maps.
  for (const k of [0, 120, 243]) {
    const got = await page.evaluate(async (k) => {
      const files = (window as unknown as { __files: Record<string, File> }).__files;
      const v = document.createElement('video');
      v.muted = true;
      v.src = URL.createObjectURL(files['pomeranian_sofa.mp4']!);
      await new Promise((resolve) => (v.onloadeddata = resolve));
      v.currentTime = (k + 0.5) / 25;
      await new Promise((resolve) => (v.onseeked = resolve));
      const frame = new VideoFrame(v);
      const bitmap = await createImageBitmap(frame);
      frame.close();
      const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
      canvas.getContext('2d')!.drawImage(bitmap, 0, 0);
      const png = await canvas.convertToBlob({ type: 'image/png' });
      const photo = await window.whycam!.openImage(png);
      const s = window.whycam!.status();
      const clip = (window as unknown as { __clip: { frames: { heatmap: { data: Float32Array } }[] } }).__clip;
      const mine = clip.frames[k]!.heatmap.data;
      let maxDiff = 0;
      s.heatmap!.data.forEach((x, i) => (maxDiff = Math.max(maxDiff, Math.abs(x - mine[i]!))));
      return { maxDiff, n: s.heatmap!.data.length, same: s.heatmap!.data.length === mine.length, top: photo?.target };
    }, k);
    expect(got.same, `frame ${k}`).toBe(true);
    expect(got.maxDiff, `frame ${k}`).toBeLessThan(1e-4);
  }
});

test('the exported WebM (VP8) opens as a source too, and a corrupt or unsupported file leaves the clip playing', async ({
  page,
}) => {
  test.setTimeout(300_000);
  await page.goto('/?backend=wasm&camera=off');
  await waitForStatus(page, (s) => s.ready, 60_000, 'ready');
  await putFile(page, CLIPS.pomeranian, 'pomeranian_sofa.mp4', 'video/mp4');
  expect(await openClip(page, 'pomeranian_sofa.mp4')).toBe(true);
  await waitForStatus(page, (s) => s.mode === 'video' && s.frames > 0, 60_000);
  // A WebM made here, now, from the clip's frames: every 4th frame with its map burned in.
  const frames = await page.evaluate(async () => {
    const r = await window.whycam!.explainVideo({ every: 4 });
    const w = window as unknown as { __files: Record<string, File> };
    w.__files['burned.webm'] = new File([r.webm!], 'burned.webm', { type: 'video/webm' });
    return r.frames.length;
  });
  expect(frames).toBe(61);
  expect(await openClip(page, 'burned.webm')).toBe(true);
  // Explained whole at once (while it starts to play by itself): every one of its 61 frames.
  const again = await page.evaluate(async () => (await window.whycam!.explainVideo({ webm: false })).frames.length);
  expect(again).toBe(61);
  const webm = await waitForStatus(
    page,
    (s) => s.video?.name === 'burned.webm' && s.answers?.source === 'image',
    60_000,
  );
  expect(webm.video!.frames).toBe(61);
  // Cancel stops a run, keeping the frames explained so far.
  const cancelled = await page.evaluate(async () => {
    const run = window.whycam!.explainVideo({ webm: true });
    await new Promise<void>((resolve) => {
      const look = (): void => {
        if (window.whycam!.status().clip.done >= 5) resolve();
        else requestAnimationFrame(look);
      };
      look();
    });
    window.whycam!.cancelExplainVideo();
    const r = await run;
    return {
      cancelled: r.cancelled,
      frames: r.frames.length,
      webm: !!r.webm,
      state: window.whycam!.status().clip.state,
    };
  });
  expect(cancelled).toMatchObject({ cancelled: true, webm: false, state: 'cancelled' });
  expect(cancelled.frames).toBeGreaterThanOrEqual(5);
  expect(cancelled.frames).toBeLessThan(61);

  // Unsupported (MJPEG is no container the browser decodes) and corrupt files: a message naming the problem.
  await page.evaluate(() => window.whycam!.playVideo());
  await putFile(page, CLIPS.mjpeg, 'pomeranian.mjpeg', 'video/x-motion-jpeg');
  expect(await openClip(page, 'pomeranian.mjpeg')).toBe(false);
  await expect(page.locator('.notices')).toContainText('pomeranian.mjpeg is not a video this app can read');
  const bytes = fs.readFileSync(CLIPS.pomeranian);
  const broken = Buffer.concat([bytes.subarray(0, 40), Buffer.alloc(200_000, 0x5a)]);
  await putFile(page, '', 'broken.mp4', 'video/mp4', broken);
  expect(await openClip(page, 'broken.mp4')).toBe(false);
  await expect(page.locator('.notices')).toContainText(
    /broken\.mp4 (has no video track: it holds no video, or it is damaged|is damaged|is not a video)/,
  );
  // The clip that played goes on, heatmaps and all.
  const before = await status(page);
  expect(before.video!.name).toBe('burned.webm');
  await waitForStatus(
    page,
    (s) => s.mode === 'video' && s.frames > before.frames + 3,
    30_000,
    'the clip still explained',
  );
});

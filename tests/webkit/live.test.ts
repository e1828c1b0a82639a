import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchWebKit, type WebKitPage, type WebKitSession } from '../../scripts/webkit.js';
import type { WhyCamStatus } from '../../src/app/automation.js';
import { StaticServer } from '../../src/node/static-server.js';
import { APP_DIR, set, waitForStatus } from './app.js';

// The live app in WebKit (WebKitGTK's MiniBrowser): its mock camera (GStreamer's test pattern, a
// clock and colour bars), explained on WASM, as `npm start` serves it. WebKitGTK has no
// MediaStreamTrackProcessor on the page or in workers (Safari 18 has one in workers), so frames go
// one by one: the path that must keep the worker busy.

describe('WebKit, live camera', () => {
  const server = new StaticServer(APP_DIR);
  let webkit: WebKitSession;
  let page: WebKitPage;

  beforeAll(async () => {
    await server.start();
    webkit = await launchWebKit({ camera: 'mock' });
    page = webkit.page;
    await page.goto(`${server.url}/`);
  });
  afterAll(async () => {
    await webkit?.close();
    await server.stop();
  });

  it('explains the camera frame after frame on WASM, frames grabbed the cheaper way (measured)', async () => {
    const first = await waitForStatus(
      page,
      (x) => x.mode === 'camera' && x.frames > 10,
      'ten heatmaps from the camera',
    );
    expect(first.backend).toBe('wasm');
    expect(first.error).toBeNull();
    expect(first).toMatchObject({ method: 'hirescam', layer: 'conv_pw_11_relu', heatmap: { width: 14, height: 14 } });
    // No track processor here: frames are sent one by one, every one acknowledged, none failed.
    expect(first.framePath!.kind).not.toMatch(/track-processor/);
    expect(first.frameAcks.failed).toBe(0);
    expect(first.frameAcks.done).toBeGreaterThanOrEqual(10);
    // Both ways of grabbing were timed on real frames, and the one kept is the cheaper.
    const { kind, measured, costs } = first.framePath!;
    expect(measured).toBe(true);
    expect(['videoframe', 'bitmap']).toContain(kind);
    const chosen = kind as 'videoframe' | 'bitmap';
    expect(costs[chosen]!).toBeLessThanOrEqual(costs[chosen === 'videoframe' ? 'bitmap' : 'videoframe']!);
    const later = await waitForStatus(page, (x) => x.frames >= first.frames + 10, 'ten more heatmaps');
    expect(later.latencyMs.p50).toBeGreaterThan(0);
    expect(later.workerRestarts).toBe(0);
    expect(later.stages!.idleMs).not.toBeNull();
    // The camera's rate is known although WebKit (without compositing) calls no presented-frame callback.
    expect(later.cameraFps).toBeGreaterThan(10);
  });

  it("the HUD's rate is the one the test measures in the page", async () => {
    await waitForStatus(page, (x) => x.frames > 20, 'twenty heatmaps');
    // Measured in the page over the two seconds the app's own meter looks back over.
    const m = await page.evaluate(async () => {
      const w = window as unknown as { whycam: { status(): WhyCamStatus } };
      const t0 = performance.now();
      const f0 = w.whycam.status().frames;
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      const s = w.whycam.status();
      const hud = document
        .querySelector('whycam-app')!
        .shadowRoot!.querySelector('whycam-hud')
        ?.shadowRoot?.querySelector('[data-hud=rate]')?.textContent;
      return { rate: (s.frames - f0) / ((performance.now() - t0) / 1000), fps: s.fps, hud: hud ?? null };
    });
    expect(m.rate).toBeGreaterThan(0);
    expect(m.fps).toBeGreaterThan(m.rate * 0.7);
    expect(m.fps).toBeLessThan(m.rate * 1.4);
    // The panel shows the app's figure (refreshed twice a second).
    expect(m.hud).toMatch(/^\d+\.\d$/);
    expect(Number(m.hud)).toBeGreaterThan(m.rate * 0.7);
    expect(Number(m.hud)).toBeLessThan(m.rate * 1.4);
  });

  it('a method switch takes effect within 3 results, without restarting the worker', async () => {
    const s0 = await waitForStatus(page, (x) => x.frames > 3 && x.method === 'hirescam', 'heatmaps');
    // The frame count and the switch in one step, so that no result slips between them.
    const at = await page.evaluate(() => {
      const w = window as unknown as { whycam: { status(): WhyCamStatus; set(p: object): void } };
      const frames = w.whycam.status().frames;
      w.whycam.set({ method: 'gradcam' });
      return frames;
    });
    const s = await waitForStatus(
      page,
      (x) => x.recent.some((r) => r.frame > at && r.method === 'gradcam'),
      'a Grad-CAM heatmap',
    );
    const firstGradcam = s.recent.find((r) => r.frame > at && r.method === 'gradcam')!;
    expect(firstGradcam.frame - at).toBeLessThanOrEqual(3);
    // Every heatmap after it is Grad-CAM too.
    expect(s.recent.filter((r) => r.frame >= firstGradcam.frame).every((r) => r.method === 'gradcam')).toBe(true);
    expect(s.workerStarts).toBe(s0.workerStarts);
    expect(s.workerRestarts).toBe(0);
  });

  it('a model switch: the fast model explains the camera, with its own layers', async () => {
    const before = await waitForStatus(page, (x) => x.frames > 0, 'heatmaps');
    await set(page, { model: 'mobilenet_v1_0.25_224' });
    const s = await waitForStatus(
      page,
      (x) =>
        x.model === 'mobilenet_v1_0.25_224' &&
        x.answers?.model === 'mobilenet_v1_0.25_224' &&
        x.frames > before.frames + 3,
      'heatmaps from the 0.25 model',
    );
    expect(s.mode).toBe('camera');
    expect(s.error).toBeNull();
    expect(s.modelName).toMatch(/0\.25/);
    // Grad-CAM (the switch above) at the layer in use, which the fast model has too.
    expect(s).toMatchObject({ method: 'gradcam', layer: before.layer, heatmap: { width: 14, height: 14 } });
    expect(s.layers.some((l) => l.name === 'conv_pw_13_relu' && l.width === 7)).toBe(true);
    expect(s.workerRestarts).toBe(0);
  });
});

describe("WebKit with Safari 18's worker track processor (MediaStreamTrackProcessing on)", () => {
  const server = new StaticServer(APP_DIR);
  let webkit: WebKitSession;

  beforeAll(async () => {
    await server.start();
    webkit = await launchWebKit({ camera: 'mock', features: ['+MediaStreamTrackProcessing'] });
  });
  afterAll(async () => {
    await webkit?.close();
    await server.stop();
  });

  it('the camera track goes to the worker, which reads it with its own processor: no frame is sent one by one', async () => {
    const page = webkit.page;
    await page.goto(`${server.url}/`);
    // The page has none (as in Safari), the worker has one.
    expect(await page.evaluate(() => 'MediaStreamTrackProcessor' in window)).toBe(false);
    const s = await waitForStatus(page, (x) => x.mode === 'camera' && x.frames > 10, 'ten heatmaps from the track');
    expect(s.framePath).toEqual({ kind: 'worker-track-processor', measured: false, costs: {} });
    expect(s.frameAcks).toEqual({ done: 0, failed: 0, dropped: {} });
    expect(s.error).toBeNull();
    // The page still shows the camera: the worker got a clone of the track, not the one on screen.
    expect(
      await page.evaluate(() => {
        const v = document
          .querySelector('whycam-app')!
          .shadowRoot!.querySelector('whycam-live-view')!
          .shadowRoot!.querySelector('video')!;
        const track = (v.srcObject as MediaStream).getVideoTracks()[0]!;
        return { state: track.readyState, playing: !v.paused && v.videoWidth > 0 };
      }),
    ).toEqual({ state: 'live', playing: true });
    // Frames keep coming, the newest each time (never a backlog: the waits stay bounded).
    const later = await waitForStatus(page, (x) => x.frames >= s.frames + 20, 'twenty more heatmaps');
    expect(later.openFrames).toBeLessThanOrEqual(1);
    expect(later.stages!.waitMs).toBeLessThan(1000);
  });
});

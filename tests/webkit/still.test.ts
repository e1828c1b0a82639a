import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchWebKit, type WebKitSession } from '../../scripts/webkit.js';
import { StaticServer } from '../../src/node/static-server.js';
import { photo } from '../helpers/shared.js';
import { APP_DIR, massInBox, openPhoto, set, waitForStatus } from './app.js';

/** The dog's head in sherlock.jpg (960×640), hand-measured (as in tests/e2e/still.spec.ts). */
const HEAD: [number, number, number, number] = [375, 30, 830, 395];

describe('WebKit, still image', () => {
  const server = new StaticServer(APP_DIR);
  let webkit: WebKitSession;

  beforeAll(async () => {
    await server.start();
    webkit = await launchWebKit({ camera: null });
  });
  afterAll(async () => {
    await webkit?.close();
    await server.stop();
  });

  it('explains sherlock.jpg as a golden retriever, with the Grad-CAM map on its head', async () => {
    const page = webkit.page;
    await page.goto(`${server.url}/?camera=off`);
    await waitForStatus(page, (x) => x.ready, 'the model ready');
    await openPhoto(page, photo('sherlock_golden_retriever.jpg'));
    let s = await waitForStatus(page, (x) => x.mode === 'image' && x.frames > 0, 'the photo explained');
    expect(s.backend).toBe('wasm');
    expect(s.predictions[0]).toMatchObject({ classIndex: 207, label: 'golden retriever' });
    expect(s.predictions[0]!.score).toBeGreaterThan(0.5);
    expect(s.region).toEqual({ x: 160, y: 0, width: 640, height: 640 });
    expect(s).toMatchObject({ method: 'hirescam', heatmap: { width: 14, height: 14 } });

    const before = s.frames;
    await set(page, { method: 'gradcam', layer: 'conv_pw_13_relu' });
    s = await waitForStatus(
      page,
      (x) => x.frames > before && x.method === 'gradcam' && x.heatmap?.width === 7,
      'Grad-CAM at 7×7',
    );
    expect(s.predictions[0]!.label).toBe('golden retriever');
    expect(massInBox(s, HEAD)).toBeGreaterThan(0.5);
    // A still picture is no measure of live speed: the slow-device notice does not come up over it.
    expect(s.notices.some((n) => n.topic === 'slow')).toBe(false);
  });
});

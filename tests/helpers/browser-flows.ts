import { expect } from 'vitest';
import type { WhyCamSet, WhyCamStatus } from '../../src/app/automation.js';
import { pollStatus } from './app-status.js';
import { massInBox } from './heatmap-mass.js';
import { photo } from './shared.js';

/**
 * The flows the Firefox and WebKit suites share, over what each browser's driver gives: the app's
 * status, its settings and a photo opened as a drop would. (Chromium's Playwright specs have their own.)
 */
export interface BrowserApp {
  status(): Promise<WhyCamStatus | null>;
  set(partial: WhyCamSet): Promise<void>;
  openPhoto(file: string): Promise<void>;
}

const wait = (app: BrowserApp, check: (s: WhyCamStatus) => boolean, what: string) =>
  pollStatus(() => app.status(), check, what);

/** The dog's head in sherlock.jpg (960×640), hand-measured (as in tests/e2e/still.spec.ts). */
const HEAD: [number, number, number, number] = [375, 30, 830, 395];

/** sherlock.jpg, opened once the model is ready: golden retriever, the centre square, the default view. */
export async function explainSherlock(app: BrowserApp): Promise<WhyCamStatus> {
  await wait(app, (x) => x.ready, 'the model ready');
  await app.openPhoto(photo('sherlock_golden_retriever.jpg'));
  const s = await wait(app, (x) => x.mode === 'image' && x.frames > 0, 'the photo explained');
  expect(s.backend).toBe('wasm');
  expect(s.predictions[0]).toMatchObject({ classIndex: 207, label: 'golden retriever' });
  expect(s.predictions[0]!.score).toBeGreaterThan(0.5);
  expect(s.region).toEqual({ x: 160, y: 0, width: 640, height: 640 });
  // The default view (HiResCAM at 14×14, chosen for passing the sanity check) is less concentrated
  // on this photo (about 0.36 of its mass on the head); Grad-CAM at 7×7 holds most of it.
  expect(s).toMatchObject({ method: 'hirescam', heatmap: { width: 14, height: 14 } });
  return s;
}

/** Then Grad-CAM at the last conv map (MATLAB's view) re-explains it, with most of the map on the head. */
export async function gradcamOnTheHead(app: BrowserApp, shown: WhyCamStatus): Promise<WhyCamStatus> {
  await app.set({ method: 'gradcam', layer: 'conv_pw_13_relu' });
  const s = await wait(
    app,
    (x) => x.frames > shown.frames && x.method === 'gradcam' && x.heatmap?.width === 7,
    'Grad-CAM at 7×7',
  );
  expect(s.predictions[0]!.label).toBe('golden retriever');
  expect(massInBox(s, HEAD)).toBeGreaterThan(0.5);
  return s;
}

/** The camera was refused: the notice says so, and a photo still gets explained. */
export async function refusedThenPhoto(app: BrowserApp): Promise<void> {
  const refused = await wait(app, (x) => x.notices.some((n) => n.topic === 'camera'), 'a camera notice');
  expect(refused.notices.find((n) => n.topic === 'camera')!.message).toContain('Camera access was refused.');
  expect(refused.mode).not.toBe('camera');
  await app.openPhoto(photo('brown_bear.jpg'));
  const s = await wait(app, (x) => x.mode === 'image' && x.frames > 0, 'the photo explained');
  expect(s.predictions[0]!.label).toBe('brown bear');
}

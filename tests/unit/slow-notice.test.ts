import { afterEach, describe, expect, it, vi } from 'vitest';
import { MeasurementsController } from '../../src/app/controllers/measurements.js';
import type { PaintedEvent } from '../../src/app/live-view.js';

// The slow-device notice ("This device explains N pictures per second") must judge one live camera
// session only: not photos, not frozen frames, not the first frame after returning to the camera.

let now = 0;
/** What the app's callback checks first: it acts only while the live camera is shown. */
let mode: 'camera' | 'image' = 'camera';
afterEach(() => vi.restoreAllMocks());

function controller(): { m: MeasurementsController; rates: number[] } {
  vi.spyOn(performance, 'now').mockImplementation(() => now);
  const rates: number[] = [];
  const host = { addController: () => undefined, requestUpdate: () => undefined };
  const m = new MeasurementsController(host as never, (rate) => {
    if (mode !== 'camera') return false;
    rates.push(rate);
    return true;
  });
  return { m, rates };
}

let frame = 0;
/** Paints one heatmap `ms` after the previous: a camera frame (captured 30 ms before) or a still picture. */
function paint(m: MeasurementsController, ms: number, camera: boolean): void {
  now += ms;
  frame++;
  m.received({
    frame,
    timings: {},
    method: 'gradcam',
    layer: 'conv',
    target: { classIndex: 1 },
    heatmap: { width: 7 },
  } as never);
  m.onPainted({ detail: { frame, captureTime: camera ? now - 30 : null, paintedAt: now } } as PaintedEvent);
}

describe('the slow-device notice', () => {
  it('is not raised when returning to the camera after a photo (it said "0.0 pictures per second")', () => {
    const { m, rates } = controller();
    for (let i = 0; i < 10; i++) paint(m, 40, true); // the camera, at 25 per second
    mode = 'image';
    m.restart();
    for (let i = 0; i < 30; i++) paint(m, 500, false); // a photo, re-explained as settings change
    mode = 'camera';
    m.restart(); // back to the camera
    paint(m, 40, true);
    paint(m, 40, true);
    expect(rates).toEqual([]);
    for (let i = 0; i < 100; i++) paint(m, 40, true); // and the camera runs at 25 per second
    expect(rates).toEqual([]);
  });

  it('is raised once a camera session has run slowly for a while, with its real rate', () => {
    const { m, rates } = controller();
    mode = 'image';
    for (let i = 0; i < 30; i++) paint(m, 200, false); // photos first: they do not count
    mode = 'camera';
    m.restart();
    for (let i = 0; i < 19; i++) paint(m, 250, true); // 4 per second, but only 19 frames yet
    expect(rates).toEqual([]);
    paint(m, 250, true);
    expect(rates).toHaveLength(1);
    expect(rates[0]).toBeCloseTo(4, 5);
    for (let i = 0; i < 20; i++) paint(m, 250, true);
    expect(rates).toHaveLength(1); // once
  });
});

import path from 'node:path';
import { afterEach, beforeAll, describe, expect, test, vi } from 'vitest';
import { type EvalReport, evalCommand } from '../../src/cli/eval-command.js';
import { SHARED_MODELS, VAL_BBOX } from '../helpers/shared.js';

// `whycam eval` in-process on the 15 ImageNet validation photos with ground-truth boxes.

async function run(args: string[]): Promise<{ code: number; out: string }> {
  const log = vi.spyOn(console, 'log').mockImplementation(() => {});
  try {
    const code = await evalCommand(args);
    return { code, out: log.mock.calls.map((c) => String(c[0])).join('\n') };
  } finally {
    log.mockRestore();
  }
}

const BOXES = path.join(VAL_BBOX, 'boxes.json');

beforeAll(() => {
  process.env['WHYCAM_MODELS_DIR'] = SHARED_MODELS;
});
afterEach(() => vi.restoreAllMocks());

/** A share of the 15 photos (or of the 6 with small boxes) as a count. */
const of15 = (share: number): number => Math.round(share * 15);
const of6 = (share: number): number => Math.round(share * 6);

describe('whycam eval', () => {
  // One run of the README's table (both layers, every method) that each test reads on its own.
  let report: EvalReport;
  beforeAll(async () => {
    const { code, out } = await run([
      '--images',
      VAL_BBOX,
      '--boxes',
      BOXES,
      '--layer',
      'conv_pw_13_relu,conv_pw_11_relu,conv_pw_9_relu',
      '--steps',
      '0',
      '--random-seeds',
      '1',
      '--json',
    ]);
    expect(code).toBe(0);
    report = JSON.parse(out) as EvalReport;
  });

  test('scores every method at the last and a 14×14 layer, and says why CAM is not at 14×14', () => {
    expect(report.n).toBe(15);
    expect(report.nSmall).toBe(6);
    expect(Object.keys(report.methods)).toEqual([
      'cam@conv_pw_13_relu',
      'gradcam@conv_pw_13_relu',
      'gradcam++@conv_pw_13_relu',
      'layercam@conv_pw_13_relu',
      'gradcam@conv_pw_11_relu',
      'gradcam++@conv_pw_11_relu',
      'layercam@conv_pw_11_relu',
      'gradcam@conv_pw_9_relu',
      'gradcam++@conv_pw_9_relu',
      'layercam@conv_pw_9_relu',
    ]);
    expect(report.skipped).toEqual(
      ['conv_pw_11_relu', 'conv_pw_9_relu'].map((layer) => ({
        method: 'cam',
        layer,
        reason: expect.stringContaining('CAM is defined only at "conv_pw_13_relu"') as unknown,
      })),
    );
  });

  test('at the last layer (7×7) every method points into the box on 14 of 15, as in the README', () => {
    const at = (method: string) => report.methods[`${method}@conv_pw_13_relu`]!;
    for (const method of ['cam', 'gradcam', 'gradcam++', 'layercam']) {
      expect(of15(at(method).pointingGame), method).toBe(14);
      expect(of15(at(method).localization), method).toBe(6);
    }
    expect(of6(at('cam').pointingGameSmall)).toBe(6);
    expect(at('cam').energyInBox).toBeCloseTo(0.661, 2);
    expect(at('gradcam++').energyInBox).toBeCloseTo(0.672, 2);
    expect(at('layercam').energyInBox).toBeCloseTo(0.67, 2);
    // Grad-CAM with the logit at the last layer is CAM: the same maps, the same scores.
    expect(at('gradcam').energyInBox).toBeCloseTo(at('cam').energyInBox, 6);
    expect(at('gradcam').pointingGameSmall).toBe(at('cam').pointingGameSmall);
  });

  test('at 14×14 only LayerCAM localises; it beats the centre prior, which beats a uniform map', () => {
    const at = (method: string) => report.methods[`${method}@conv_pw_11_relu`]!;
    expect(of15(at('layercam').pointingGame)).toBe(14);
    expect(at('layercam').energyInBox).toBeCloseTo(0.68, 2);
    expect(of15(at('gradcam').pointingGame)).toBe(7);
    expect(at('gradcam').energyInBox).toBeCloseTo(0.561, 2);
    expect(of15(at('gradcam++').pointingGame)).toBe(2);
    expect(at('gradcam++').energyInBox).toBeCloseTo(0.441, 2);
    expect(at('layercam').energyInBox).toBeGreaterThan(report.baseline.energyInBox);
    expect(report.baseline.energyInBox).toBeGreaterThan(report.uniformEnergyInBox);
  });

  test('the default view, LayerCAM at conv_pw_9_relu, has the most mass in the boxes, as in the README', () => {
    const at = (method: string) => report.methods[`${method}@conv_pw_9_relu`]!;
    expect(report.defaultView).toBe('layercam@conv_pw_9_relu');
    expect(of15(at('layercam').pointingGame)).toBe(14);
    expect(of6(at('layercam').pointingGameSmall)).toBe(5);
    expect(of15(at('layercam').localization)).toBe(6);
    expect(at('layercam').energyInBox).toBeCloseTo(0.724, 2);
    for (const key of Object.keys(report.methods).filter((k) => k !== report.defaultView))
      expect(at('layercam').energyInBox, key).toBeGreaterThan(report.methods[key]!.energyInBox);
    expect(of15(at('gradcam').pointingGame)).toBe(9);
    expect(at('gradcam').energyInBox).toBeCloseTo(0.511, 2);
    expect(of15(at('gradcam++').pointingGame)).toBe(2);
    expect(at('gradcam++').energyInBox).toBeCloseTo(0.554, 2);
  });

  test("the baseline is the centre point / centred Gaussian; a uniform map gets the boxes' share", () => {
    expect(of15(report.baseline.pointingGame)).toBe(13);
    expect(of6(report.baseline.pointingGameSmall)).toBe(4);
    expect(report.baseline.energyInBox).toBeCloseTo(0.662, 2);
    expect(of15(report.baseline.localization)).toBe(5);
    expect(report.uniformEnergyInBox).toBeCloseTo(0.52, 2);
  });

  test('prints a table with the baseline row', async () => {
    const { out } = await run([
      '--images',
      VAL_BBOX,
      '--boxes',
      BOXES,
      '--method',
      'cam',
      '--steps',
      '0',
      '--random-seeds',
      '1',
    ]);
    expect(out).toMatch(/\| CAM +\| conv_pw_13_relu +\| 14\/15 \(93\.3%\) +\| 6\/6 \(100\.0%\) +\| 0\.661 /);
    expect(out).toMatch(/\| centre prior +\| \(baseline\) +\| 13\/15 \(86\.7%\)/);
  });

  test('refuses a boxes file that is not one', async () => {
    await expect(run(['--images', VAL_BBOX, '--boxes', path.join(VAL_BBOX, 'labels.tsv')])).rejects.toThrow(
      /cannot be read as JSON/,
    );
    await expect(run(['--images', VAL_BBOX])).rejects.toThrow(/needs --images and --boxes/);
  });
});

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

beforeAll(() => { process.env['WHYCAM_MODELS_DIR'] = SHARED_MODELS; });
afterEach(() => vi.restoreAllMocks());

describe('whycam eval', () => {
  let report: EvalReport;

  test('scores every method at the last and a 14×14 layer, beside the centre prior', async () => {
    const { code, out } = await run(['--images', VAL_BBOX, '--boxes', BOXES, '--layer', 'conv_pw_13_relu,conv_pw_11_relu', '--json']);
    expect(code).toBe(0);
    report = JSON.parse(out) as EvalReport;
    expect(report.n).toBe(15);
    expect(Object.keys(report.methods)).toEqual([
      'cam@conv_pw_13_relu', 'gradcam@conv_pw_13_relu', 'gradcam++@conv_pw_13_relu', 'layercam@conv_pw_13_relu',
      'gradcam@conv_pw_11_relu', 'gradcam++@conv_pw_11_relu', 'layercam@conv_pw_11_relu',
    ]);
    expect(report.skipped).toEqual([{ method: 'cam', layer: 'conv_pw_11_relu', reason: expect.stringContaining('CAM is defined only at "conv_pw_13_relu"') }]);
    for (const scores of [...Object.values(report.methods), report.baseline]) {
      for (const key of ['pointingGame', 'pointingGameSmall', 'energyInBox', 'localization'] as const) {
        expect(scores[key]).toBeGreaterThanOrEqual(0);
        expect(scores[key]).toBeLessThanOrEqual(1);
      }
    }
  });

  test('CAM and Grad-CAM at the last layer point into the box on at least 10 of 15', () => {
    expect(report.methods['cam@conv_pw_13_relu']!.pointingGame * 15).toBeGreaterThanOrEqual(10);
    expect(report.methods['gradcam@conv_pw_13_relu']!.pointingGame * 15).toBeGreaterThanOrEqual(10);
    // Grad-CAM with the logit at the last layer is CAM: same scores.
    expect(report.methods['gradcam@conv_pw_13_relu']!.energyInBox).toBeCloseTo(report.methods['cam@conv_pw_13_relu']!.energyInBox, 3);
  });

  test('the baseline is the centre point / centred Gaussian, and maps beat the uniform map\'s box share', () => {
    expect(Math.round(report.baseline.pointingGame * 15)).toBe(13);
    expect(report.uniformEnergyInBox).toBeCloseTo(0.52, 2);
    expect(report.baseline.energyInBox).toBeGreaterThan(report.uniformEnergyInBox);
    expect(report.methods['layercam@conv_pw_11_relu']!.energyInBox).toBeGreaterThan(report.uniformEnergyInBox);
    expect(report.methods['layercam@conv_pw_11_relu']!.pointingGame).toBeGreaterThan(report.methods['gradcam@conv_pw_11_relu']!.pointingGame);
  });

  test('prints a table with the baseline row', async () => {
    const { out } = await run(['--images', VAL_BBOX, '--boxes', BOXES, '--method', 'cam']);
    expect(out).toMatch(/\| CAM +\| conv_pw_13_relu \| \d+\/15/);
    expect(out).toMatch(/\| centre prior +\| \(baseline\) +\| 13\/15 \(86\.7%\)/);
  });

  test('refuses a boxes file that is not one', async () => {
    await expect(run(['--images', VAL_BBOX, '--boxes', path.join(VAL_BBOX, 'labels.tsv')])).rejects.toThrow(/cannot be read as JSON/);
    await expect(run(['--images', VAL_BBOX])).rejects.toThrow(/needs --images and --boxes/);
  });
});

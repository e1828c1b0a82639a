import path from 'node:path';
import { afterEach, beforeAll, describe, expect, test, vi } from 'vitest';
import { type EvalReport, evalCommand } from '../../src/cli/eval-command.js';
import { main } from '../../src/cli/main.js';
import type { SanityCommandReport } from '../../src/cli/sanity-command.js';
import { SHARED_MODELS, VAL_BBOX } from '../helpers/shared.js';

// `whycam eval` with deletion/insertion and the perturbation methods, and `whycam sanity`, in-process
// on a few of the 15 ImageNet validation photos.

async function run(
  command: (args: string[]) => Promise<number>,
  args: string[],
): Promise<{ code: number; out: string; err: string }> {
  const log = vi.spyOn(console, 'log').mockImplementation(() => {});
  const error = vi.spyOn(console, 'error').mockImplementation(() => {});
  try {
    const code = await command(args);
    return {
      code,
      out: log.mock.calls.map((c) => String(c[0])).join('\n'),
      err: error.mock.calls.map((c) => String(c[0])).join('\n'),
    };
  } finally {
    log.mockRestore();
    error.mockRestore();
  }
}

const BOXES = path.join(VAL_BBOX, 'boxes.json');

beforeAll(() => {
  process.env['WHYCAM_MODELS_DIR'] = SHARED_MODELS;
});
afterEach(() => vi.restoreAllMocks());

describe('whycam eval: faithfulness', () => {
  test('with no --method it scores the default view and both baselines, deletion and insertion included', async () => {
    const { code, out } = await run(evalCommand, [
      '--images',
      VAL_BBOX,
      '--boxes',
      BOXES,
      // Four photos: on the first two alone, LayerCAM at conv_pw_9_relu deletes more slowly than
      // noise (AUC 0.083 against 0.012, four steps); on four, 0.078 against 0.107.
      '--limit',
      '4',
      '--steps',
      '4',
      '--random-seeds',
      '2',
      '--json',
    ]);
    expect(code).toBe(0);
    const report = JSON.parse(out) as EvalReport;
    expect(report.n).toBe(4);
    expect(report.defaultView).toBe('layercam@conv_pw_9_relu');
    expect(Object.keys(report.methods)).toEqual(['layercam@conv_pw_9_relu']);
    expect(report.faithfulness).toEqual({
      steps: 4,
      blurSigma: 5,
      blurKernel: 11,
      deletionValue: 0,
      inputSize: [224, 224],
    });
    const view = report.methods['layercam@conv_pw_9_relu']!;
    for (const s of [view, report.baseline, report.randomBaseline]) {
      expect(s.deletionAuc).toBeGreaterThanOrEqual(0);
      expect(s.insertionAuc).toBeLessThanOrEqual(1);
    }
    expect(report.randomBaseline).toMatchObject({ seeds: 2, grid: [14, 14] });
    // The network's own map removes the evidence faster than noise does.
    expect(view.deletionAuc!).toBeLessThan(report.randomBaseline.deletionAuc!);
  });

  test('occlusion is a row with its time per image, and Grad-CAM++ inside the network gets a note', async () => {
    const { code, out } = await run(evalCommand, [
      '--images',
      VAL_BBOX,
      '--boxes',
      BOXES,
      '--limit',
      '1',
      '--steps',
      '2',
      '--random-seeds',
      '1',
      '--method',
      'occlusion,gradcam++',
      '--layer',
      'conv_pw_11_relu',
      '--mask-size',
      '112',
      '--stride',
      '112',
    ]);
    expect(code).toBe(0);
    expect(out).toMatch(/\| Occlusion +\| \(input\) /);
    expect(out).toMatch(/deletion ↓ \| insertion ↑ \| ms\/image/);
    expect(out).toMatch(/deletion\/insertion: 2 steps of 50\.0% of the 224×224 input's pixels/);
    expect(out).toMatch(/occlusion: \{"maskSize":112,"stride":112,"maskValue":"mean colour"\}/);
    expect(out).toMatch(/note: Grad-CAM\+\+ is unreliable at inner layers/);
  });

  test('--steps 0 leaves the faithfulness columns empty', async () => {
    const { out } = await run(evalCommand, [
      '--images',
      VAL_BBOX,
      '--boxes',
      BOXES,
      '--limit',
      '1',
      '--steps',
      '0',
      '--method',
      'cam',
      '--json',
    ]);
    const report = JSON.parse(out) as EvalReport;
    expect(report.faithfulness).toBeNull();
    expect(report.methods['cam']!.deletionAuc).toBeNull();
  });
});

describe('whycam sanity', () => {
  test('JSON: per method, the blocks re-initialised and the mean Spearman ρ after each', async () => {
    const { code, out } = await run(main, [
      'sanity',
      '--images',
      VAL_BBOX,
      '--limit',
      '2',
      '--depth',
      '2',
      '--method',
      'cam,layercam',
      '--json',
    ]);
    expect(code).toBe(0);
    const report = JSON.parse(out) as SanityCommandReport;
    expect(report.n).toBe(2);
    expect(Object.keys(report.methods)).toEqual(['cam', 'layercam']);
    expect(report.methods['cam']!.blocks).toEqual(['logits', 'block 13']);
    expect(report.methods['cam']!.spearman).toHaveLength(2);
    // CAM with random classifier weights is unrelated to CAM with the real ones.
    expect(Math.abs(report.methods['cam']!.spearman[0]!)).toBeLessThan(0.6);
  });

  test('a bad option names the problem and exits with 2', async () => {
    const { code, err } = await run(main, ['sanity', '--images', VAL_BBOX, '--method', 'nope']);
    expect(code).toBe(2);
    expect(err).toMatch(/--method nope is not valid/);
  });
});

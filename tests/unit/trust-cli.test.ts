import fs from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, test, vi } from 'vitest';
import { type EvalReport, evalCommand } from '../../src/cli/eval-command.js';
import { main } from '../../src/cli/main.js';
import { FaithfulnessProbe } from '../../src/explain/evaluation/faithfulness.js';
import { centreGaussian } from '../../src/explain/evaluation/metrics.js';
import { networkInput } from '../../src/explain/perturbation/perturbation.js';
import { useNodeBackend } from '../../src/node/backend.js';
import { readImage } from '../../src/node/image-io.js';
import { loadModelOption } from '../../src/node/model-path.js';
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
const TM_EXPORT = path.join(SHARED_MODELS, 'teachable-machine', 'day-night');

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
      // Four photos: on the first two alone a 14×14 map can delete more slowly than noise (LayerCAM
      // at conv_pw_9_relu: AUC 0.083 against 0.012, four steps); on four, 0.078 against 0.107.
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
    expect(report.defaultView).toBe('hirescam@conv_pw_11_relu');
    expect(Object.keys(report.methods)).toEqual(['hirescam@conv_pw_11_relu']);
    expect(report.faithfulness).toEqual({
      steps: 4,
      blurSigma: 5,
      blurKernel: 11,
      deletionValue: 0,
      inputSize: [224, 224],
    });
    const view = report.methods['hirescam@conv_pw_11_relu']!;
    // The centre prior's AUCs, recomputed here: its map is known (a centred Gaussian), so the
    // curves come straight from the probe and the areas from trapezoids written out below.
    const trapezoid = (c: ArrayLike<number>): number => {
      let sum = 0;
      for (let k = 0; k + 1 < c.length; k++) sum += (c[k]! + c[k + 1]!) / 2;
      return sum / (c.length - 1);
    };
    await useNodeBackend('wasm');
    const { explainer } = await loadModelOption({}, SHARED_MODELS);
    const entries = (JSON.parse(await fs.readFile(BOXES, 'utf8')) as { file: string; class_index: number }[]).slice(
      0,
      4,
    );
    let deletion = 0;
    let insertion = 0;
    try {
      for (const e of entries) {
        const { x } = await networkInput(explainer, await readImage(path.join(VAL_BBOX, e.file)), 'full');
        const probe = new FaithfulnessProbe(explainer.network, x, e.class_index, { steps: 4, blurSigma: 5 });
        const curves = await probe.curves(centreGaussian(224, 224));
        expect(curves.deletion).toHaveLength(5);
        deletion += trapezoid(curves.deletion) / entries.length;
        insertion += trapezoid(curves.insertion) / entries.length;
        probe.dispose();
        x.dispose();
      }
    } finally {
      explainer.dispose();
    }
    expect(report.baseline.deletionAuc).toBeCloseTo(deletion, 5);
    expect(report.baseline.insertionAuc).toBeCloseTo(insertion, 5);
    // Deleting the centre first hurts: what is left scores less than what the centre alone restores.
    expect(report.baseline.deletionAuc!).toBeLessThan(report.baseline.insertionAuc!);
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

  test('--model takes a Teachable Machine export folder, as explain and eval do', async () => {
    const { code, out } = await run(main, [
      'sanity',
      '--images',
      VAL_BBOX,
      '--model',
      TM_EXPORT,
      '--limit',
      '1',
      '--depth',
      '1',
      '--method',
      'gradcam',
      '--json',
    ]);
    expect(code).toBe(0);
    const report = JSON.parse(out) as SanityCommandReport;
    expect(report.model).toMatch(/\(.+\)$/); // "<name> (<folder>)", not the registry's default
    expect(report.model).not.toMatch(/^mobilenet_v1_0\.75_224$/);
    expect(report.crop).toBe('center'); // as the export was trained
    expect(report.methods['gradcam']!.blocks).toHaveLength(1);
    const missing = await run(main, ['sanity', '--images', VAL_BBOX, '--model', '/nonexistent/model']);
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(/Unknown model "\/nonexistent\/model"/);
  });

  test('a bad option names the problem and exits with 2', async () => {
    const { code, err } = await run(main, ['sanity', '--images', VAL_BBOX, '--method', 'nope']);
    expect(code).toBe(2);
    expect(err).toMatch(/--method nope is not valid/);
  });
});
